// The emoji the picker and `:shortcodes:` offer: one per line, the emoji, its shortcode (its name,
// words joined by "_") and a few more words it is found by. Loaded only when first needed (it is
// not part of the app's first load). Order: the picker's order.
const LINES = `
😀 grinning smile happy face
😃 smiley smile happy joy
😄 smile happy joy laugh
😁 grin smile teeth
😆 laughing lol haha
😅 sweat_smile relief nervous
🤣 rofl rolling laughing lol
😂 joy tears laughing lol
🙂 slightly_smiling smile
🙃 upside_down silly sarcasm
😉 wink flirt
😊 blush smile happy shy
😇 innocent angel halo
🥰 smiling_hearts love adore
😍 heart_eyes love crush
🤩 star_struck wow amazing
😘 kissing_heart kiss love
😗 kissing kiss
😚 kissing_closed_eyes kiss
😙 kissing_smiling_eyes kiss
😋 yum tasty delicious
😛 stuck_out_tongue playful
😜 winking_tongue crazy playful
🤪 zany crazy goofy
😝 squinting_tongue playful
🤑 money_mouth rich
🤗 hugging hug
🤭 hand_over_mouth oops giggle
🤫 shushing quiet secret
🤔 thinking hmm think
🤐 zipper_mouth secret quiet
🤨 raised_eyebrow suspicious doubt
😐 neutral meh
😑 expressionless blank
😶 no_mouth silent
😏 smirk smug
😒 unamused bored meh
🙄 rolling_eyes eyeroll whatever
😬 grimacing awkward eek
🤥 lying liar
😌 relieved calm
😔 pensive sad
😪 sleepy tired
🤤 drooling
😴 sleeping sleep zzz
😷 mask sick ill
🤒 thermometer_face sick fever
🤕 head_bandage hurt
🤢 nauseated sick gross
🤮 vomiting sick
🤧 sneezing sick cold
🥵 hot heat sweating
🥶 cold freezing
🥴 woozy dizzy drunk
😵 dizzy_face dead
🤯 exploding_head mind_blown shocked
🤠 cowboy hat
🥳 partying party celebrate birthday
😎 sunglasses cool
🤓 nerd geek glasses
🧐 monocle curious
😕 confused puzzled
😟 worried nervous
🙁 slightly_frowning sad
☹️ frowning sad
😮 open_mouth surprised wow
😯 hushed surprised
😲 astonished shocked
😳 flushed embarrassed
🥺 pleading puppy_eyes please
😦 frowning_open_mouth
😧 anguished
😨 fearful scared
😰 anxious_sweat nervous
😥 sad_relieved disappointed
😢 cry sad tear
😭 sob crying sad
😱 scream fear horror
😖 confounded
😣 persevering
😞 disappointed sad
😓 downcast_sweat
😩 weary tired
😫 tired_face exhausted
🥱 yawning bored tired
😤 triumph huff
😡 rage angry mad
😠 angry mad
🤬 cursing swearing angry
😈 smiling_imp devil evil
👿 imp devil angry
💀 skull dead
☠️ skull_crossbones danger
💩 poop poo
🤡 clown
👹 ogre monster
👻 ghost boo halloween
👽 alien ufo
🤖 robot bot
😺 smiley_cat cat
😸 smile_cat cat
😹 joy_cat cat laugh
😻 heart_eyes_cat cat love
😼 smirk_cat cat
😽 kissing_cat cat
🙀 scream_cat cat
😿 crying_cat cat sad
😾 pouting_cat cat angry
🙈 see_no_evil monkey
🙉 hear_no_evil monkey
🙊 speak_no_evil monkey
💋 kiss lips
💌 love_letter
💘 cupid heart arrow
💝 gift_heart
💖 sparkling_heart love
💗 growing_heart love
💓 heartbeat love
💞 revolving_hearts love
💕 two_hearts love
💟 heart_decoration
❣️ heart_exclamation
💔 broken_heart sad
❤️ heart love red
🧡 orange_heart love
💛 yellow_heart love
💚 green_heart love
💙 blue_heart love
💜 purple_heart love
🤎 brown_heart love
🖤 black_heart
🤍 white_heart
💯 100 hundred perfect score
💢 anger
💥 boom collision explosion
💫 dizzy star
💦 sweat_drops water
💨 dash wind fast
💬 speech_balloon chat message
💭 thought_balloon think
💤 zzz sleep
👋 wave hello hi bye hand
🤚 raised_back_of_hand
✋ raised_hand stop high_five
🖖 vulcan spock
👌 ok_hand okay perfect
🤌 pinched_fingers italian
🤏 pinching small
✌️ victory peace
🤞 crossed_fingers luck hope
🤟 love_you_gesture
🤘 metal rock horns
🤙 call_me shaka
👈 point_left
👉 point_right
👆 point_up
👇 point_down
☝️ index_up
👍 thumbs_up like yes approve +1
👎 thumbs_down dislike no -1
✊ raised_fist power
👊 punch fist bump
🤛 left_fist bump
🤜 right_fist bump
👏 clap applause bravo
🙌 raised_hands hooray celebrate
👐 open_hands
🤲 palms_up
🤝 handshake deal agree
🙏 pray please thanks hope
✍️ writing
💅 nail_polish
🤳 selfie
💪 muscle strong flex
🧠 brain smart
👀 eyes look see
👁️ eye
👅 tongue
👄 mouth lips
👶 baby
🧒 child kid
👦 boy
👧 girl
🧑 person adult
👨 man
👩 woman
🧓 older_person
👴 old_man
👵 old_woman
👮 police cop
🕵️ detective spy
💂 guard
👷 construction_worker
🤴 prince
👸 princess
🧙 mage wizard
🧚 fairy
🧛 vampire
🧜 merperson mermaid
🧝 elf
🧞 genie
🧟 zombie
🙋 raising_hand question
🙅 no_gesture nope
🙆 ok_gesture
🤷 shrug dunno whatever
🤦 facepalm
🙇 bow sorry
💁 tipping_hand info
🚶 walking walk
🏃 running run
💃 dancer dance
🕺 man_dancing dance
👯 dancers party
🧘 yoga meditate
🛌 in_bed sleep
👪 family
💑 couple_heart love
👫 couple
🐶 dog puppy pet
🐱 cat kitten pet
🐭 mouse
🐹 hamster
🐰 rabbit bunny
🦊 fox
🐻 bear
🐼 panda
🐨 koala
🐯 tiger
🦁 lion
🐮 cow
🐷 pig
🐸 frog
🐵 monkey
🐔 chicken
🐧 penguin
🐦 bird
🐤 chick baby_bird
🦆 duck
🦅 eagle
🦉 owl
🦇 bat
🐺 wolf
🐴 horse
🦄 unicorn magic
🐝 bee honey
🐛 bug caterpillar
🦋 butterfly
🐌 snail slow
🐞 ladybug
🐢 turtle slow
🐍 snake
🐙 octopus
🦀 crab
🐠 tropical_fish fish
🐟 fish
🐬 dolphin
🐳 whale
🦈 shark
🐊 crocodile
🐘 elephant
🦒 giraffe
🐪 camel
🐑 sheep
🐐 goat
🦌 deer
🐕 dog_walking dog
🐈 cat_walking cat
🐾 paw_prints
🌵 cactus
🎄 christmas_tree xmas
🌲 evergreen tree
🌳 tree
🌴 palm_tree beach
🌱 seedling plant grow
🌿 herb
🍀 four_leaf_clover luck
🍁 maple_leaf autumn fall
🍂 fallen_leaf autumn
🍄 mushroom
💐 bouquet flowers
🌷 tulip flower
🌹 rose flower love
🥀 wilted_flower sad
🌺 hibiscus flower
🌸 cherry_blossom flower spring
🌼 blossom flower
🌻 sunflower
🌞 sun_with_face sunny
🌝 full_moon_face
🌚 new_moon_face
🌙 crescent_moon night
🌎 earth world globe
🪐 planet saturn
⭐ star
🌟 glowing_star
✨ sparkles shiny magic new
⚡ zap lightning thunder
🔥 fire hot lit flame
🌈 rainbow
☀️ sunny sun weather
⛅ partly_sunny weather
☁️ cloud weather
🌧️ rain weather
⛈️ storm thunder weather
❄️ snowflake snow cold winter
☃️ snowman winter
⛄ snowman_without_snow winter
🌊 ocean_wave sea water
💧 droplet water
☔ umbrella rain
🍏 green_apple fruit
🍎 apple fruit
🍐 pear fruit
🍊 orange tangerine fruit
🍋 lemon fruit
🍌 banana fruit
🍉 watermelon fruit summer
🍇 grapes fruit
🍓 strawberry fruit
🍒 cherries fruit
🍑 peach fruit
🥭 mango fruit
🍍 pineapple fruit
🥥 coconut
🥝 kiwi fruit
🍅 tomato
🥑 avocado
🍆 eggplant aubergine
🥕 carrot
🌽 corn
🌶️ hot_pepper spicy chili
🥦 broccoli
🥐 croissant breakfast
🍞 bread
🧀 cheese
🥚 egg
🍳 cooking fried_egg breakfast
🥞 pancakes breakfast
🥓 bacon breakfast
🍔 hamburger burger
🍟 fries chips
🍕 pizza
🌭 hotdog
🥪 sandwich
🌮 taco
🌯 burrito
🥗 salad
🍝 spaghetti pasta
🍜 ramen noodles
🍣 sushi
🍤 fried_shrimp
🍚 rice
🍦 ice_cream
🍩 doughnut donut
🍪 cookie
🎂 birthday_cake cake party
🍰 cake dessert
🧁 cupcake
🍫 chocolate
🍬 candy sweet
🍭 lollipop
🍿 popcorn movie
☕ coffee tea hot
🍵 tea
🧃 juice
🥤 cup_with_straw soda
🍺 beer drink
🍻 beers cheers drink
🥂 champagne_glasses toast cheers celebrate
🍷 wine drink
🍸 cocktail drink
🍹 tropical_drink
🥃 whisky tumbler
🍾 champagne bottle celebrate
⚽ soccer football sport
🏀 basketball sport
🏈 american_football sport
⚾ baseball sport
🎾 tennis sport
🏐 volleyball sport
🏓 ping_pong sport
🏸 badminton sport
⛳ golf sport
🎣 fishing
🏊 swimming swim
🚴 bike cycling
🏆 trophy win champion
🥇 first_place gold medal
🥈 second_place silver medal
🥉 third_place bronze medal
🏅 medal sports
🎯 dart target bullseye
🎮 video_game gaming controller
🎲 game_die dice
🧩 puzzle jigsaw
🎨 art palette paint
🎭 performing_arts theater
🎤 microphone sing karaoke
🎧 headphones music
🎼 musical_score music
🎵 musical_note music
🎶 notes music
🎹 piano music
🎸 guitar music
🎷 saxophone music
🎺 trumpet music
🥁 drum music
🎬 clapper movie film
🎉 tada party celebrate congrats hooray
🎊 confetti_ball party
🎈 balloon party birthday
🎁 gift present birthday
🎀 ribbon
🎃 jack_o_lantern halloween pumpkin
🎆 fireworks celebrate
🎇 sparkler
🧨 firecracker
🚗 car automobile
🚕 taxi cab
🚌 bus
🚓 police_car
🚑 ambulance
🚒 fire_engine
🚚 truck delivery
🚲 bicycle bike
🛴 scooter
🏍️ motorcycle
🚂 train steam
🚆 fast_train train
🚇 metro subway
✈️ airplane plane flight travel
🚀 rocket launch space ship
🛸 flying_saucer ufo
🚁 helicopter
⛵ sailboat boat
🚢 ship boat
⚓ anchor
⛽ fuel gas
🚦 traffic_light
🗺️ map world
🏠 house home
🏡 house_garden home
🏢 office building work
🏥 hospital
🏫 school
🏰 castle
⛪ church
🗽 statue_of_liberty
🗼 tokyo_tower
🏖️ beach vacation
🏝️ island vacation
⛰️ mountain
🏕️ camping
⌚ watch time
📱 iphone phone mobile
💻 computer laptop
⌨️ keyboard
🖥️ desktop computer
🖨️ printer
🖱️ computer_mouse
💾 floppy_disk save
📷 camera photo
📸 camera_flash photo
📹 video_camera
📺 tv television
📻 radio
⏰ alarm_clock
⏳ hourglass time wait
📡 satellite_antenna
🔋 battery
🔌 plug electric
💡 bulb idea light
🔦 flashlight
🕯️ candle
💸 money_wings spend
💵 dollar money
💶 euro money
💷 pound money
💰 moneybag money rich
💳 credit_card
💎 gem diamond
🔧 wrench tool
🔨 hammer tool
🛠️ tools
⚙️ gear settings
🔩 nut_and_bolt
🧰 toolbox
🔫 water_pistol
💣 bomb
🔪 knife
🛡️ shield
🔮 crystal_ball magic
💊 pill medicine
💉 syringe vaccine
🧬 dna
🧪 test_tube science
🌡️ thermometer temperature
🧹 broom clean
🧻 toilet_paper
🛁 bathtub bath
🔑 key lock password
🗝️ old_key
🚪 door
🛋️ couch sofa
🛏️ bed sleep
🧸 teddy_bear toy
🖼️ framed_picture
🛒 shopping_cart
🎒 backpack school
👓 glasses
🕶️ dark_sunglasses cool
👔 necktie shirt
👕 shirt tshirt
👖 jeans
👗 dress
👙 bikini beach
👠 high_heel shoe
👟 sneaker shoe
👑 crown king queen
🎩 top_hat
🎓 graduation_cap school
💼 briefcase work
👜 handbag
☂️ open_umbrella rain
💍 ring wedding engagement
✉️ envelope email mail
📧 email mail
📨 incoming_envelope
📩 envelope_arrow
📦 package box delivery
📫 mailbox
📝 memo note write
📄 page document
📃 page_curl
📑 bookmark_tabs
📊 bar_chart stats
📈 chart_up trend growth
📉 chart_down trend
📅 date calendar
📆 calendar schedule
🗓️ spiral_calendar
📌 pushpin pin
📍 round_pushpin location
📎 paperclip attachment
✂️ scissors cut
🖊️ pen
✏️ pencil edit
🔍 mag search
🔒 lock secure private
🔓 unlock open
🔔 bell notification
🔕 no_bell mute
📢 loudspeaker announcement
📣 mega megaphone
📚 books library read
📖 book open_book read
🔗 link chain
🧲 magnet
⚖️ scales justice
🏳️ white_flag
🏴 black_flag
🏁 checkered_flag finish race
🚩 triangular_flag red_flag
🏳️‍🌈 rainbow_flag pride
🇬🇧 flag_gb uk britain
🇺🇸 flag_us usa america
🇫🇷 flag_fr france
🇩🇪 flag_de germany
🇪🇸 flag_es spain
🇮🇹 flag_it italy
🇯🇵 flag_jp japan
🇪🇺 flag_eu europe
✅ white_check_mark done yes check
☑️ ballot_box_with_check
✔️ heavy_check_mark check yes
❌ x cross no wrong
❎ negative_squared_cross_mark
➕ plus add
➖ minus
➗ divide
❓ question
❔ grey_question
❗ exclamation important
‼️ bangbang
⁉️ interrobang
⚠️ warning caution
🚫 no_entry_sign forbidden
⛔ no_entry stop
🔴 red_circle
🟠 orange_circle
🟡 yellow_circle
🟢 green_circle
🔵 blue_circle
🟣 purple_circle
⚫ black_circle
⚪ white_circle
🟥 red_square
🟩 green_square
🟦 blue_square
🔶 large_orange_diamond
🔷 large_blue_diamond
🔺 red_triangle_up
🔻 red_triangle_down
♻️ recycle
🆗 ok_button ok
🆕 new_button new
🆒 cool_button
🆓 free_button
🆘 sos help
🔝 top
🔜 soon
🔙 back
♥️ hearts card
♠️ spades card
♣️ clubs card
♦️ diamonds card
🃏 black_joker card
🀄 mahjong
#️⃣ hash number
1️⃣ one number
2️⃣ two number
3️⃣ three number
🔟 keycap_ten ten
©️ copyright
®️ registered
™️ tm trademark
`;

/** `[{ emoji, name, words }]`, `name` being the shortcode. */
export const EMOJI = LINES.trim().split('\n').map((line) => {
  const [emoji, name, ...words] = line.split(' ');
  return { emoji, name, words };
});
