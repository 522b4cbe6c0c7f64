/// The OpenAPI 3.1 description of every REST route (`GET /api/openapi.json`). A test checks that
/// each registered route appears here, so a new route cannot ship undocumented.
enum OpenAPIDocument {
    typealias S = OpenAPISchemas

    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var secured = false
        var body: JSONValue? = nil
        /// False where the body may be left out (a member joining again, an invite with defaults).
        var bodyRequired = true
        var bodyType = "application/json"
        var parameters: [JSONValue] = []
        var responses: [Int: (description: String, schema: JSONValue?)]
    }

    private static let errorCodes: [Int: String] = [
        400: "Invalid input", 401: "Missing, invalid, expired or revoked token", 403: "Not allowed", 404: "Not found",
        409: "Conflict", 410: "Gone (a sync cursor older than the feed keeps: reload, then sync from a new cursor)",
        413: "Too large", 415: "Unsupported media type", 422: "No preview can be made of that link (the site failed, is not a page, or says nothing)",
        429: "Rate limited (see Retry-After)",
        502: "The email or SMS provider failed", 503: "Database unreachable",
    ]

    private static func errors(_ codes: Int...) -> [Int: (String, JSONValue?)] {
        Dictionary(uniqueKeysWithValues: codes.map { ($0, (errorCodes[$0]!, S.ref("Error"))) })
    }

    private static func query(_ name: String, _ description: String, required: Bool = false, type: String = "string",
                              schema: JSONValue? = nil) -> JSONValue {
        ["name": .string(name), "in": "query", "required": .bool(required), "description": .string(description),
         "schema": schema ?? ["type": .string(type)]]
    }

    /// `limit`: an integer in 1…`max`.
    private static func limit(max: Int, default value: Int) -> JSONValue {
        query("limit", "1–\(max), default \(value)", schema: ["type": "integer", "minimum": 1, "maximum": .number(Double(max))])
    }

    private static func uuidQuery(_ name: String, _ description: String) -> JSONValue {
        query(name, description, schema: S.uuid)
    }

    private static func path(_ name: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"]]
    }

    private static func merge(_ ok: [Int: (String, JSONValue?)], _ failures: [Int: (String, JSONValue?)]) -> [Int: (description: String, schema: JSONValue?)] {
        ok.merging(failures) { first, _ in first }.mapValues { (description: $0.0, schema: $0.1) }
    }

    static func imageUpload(_ field: String, limit: String) -> JSONValue {
        S.object([field: ["type": "string", "format": "binary", "description": .string("JPEG, PNG or WebP, ≤ \(limit)")]], required: [field])
    }

    static var operations: [Operation] {
        let authErrors = errors(400, 429, 502)
        let pushOff: [Int: (String, JSONValue?)] = [503: ("Web Push is not configured (no VAPID key)", S.ref("Error"))]
        return [
            Operation(method: "get", path: "/api/health", summary: "Health and database status", tag: "System",
                      responses: merge([200: ("Healthy", S.ref("Health"))], [503: ("Database unreachable", S.ref("Health"))])),
            Operation(method: "get", path: "/api/ready", summary: "Readiness: database and, in cluster mode, the link to the other nodes", tag: "System",
                      responses: merge([200: ("Ready", S.ref("Readiness"))], [503: ("Not ready", S.ref("Readiness"))])),
            Operation(method: "get", path: "/api/client-config", summary: "What the web client needs before sending: upload limit and types, longest message, mode", tag: "System",
                      responses: [200: ("Limits", S.ref("ClientConfig"))]),
            Operation(method: "get", path: "/metrics", summary: "Prometheus metrics (text exposition format)", tag: "System",
                      responses: [200: ("text/plain; version=0.0.4", nil)]),
            Operation(method: "get", path: "/api/openapi.json", summary: "This document", tag: "System",
                      responses: [200: ("OpenAPI 3.1 document", ["type": "object"])]),
            Operation(method: "get", path: "/api/docs", summary: "Swagger UI", tag: "System",
                      responses: [200: ("HTML page", nil)]),
            Operation(method: "get", path: "/api/dev/outbox", summary: "Dev mailer/SMS outbox (development and testing only)", tag: "Development",
                      parameters: [query("to", "only messages to this address or number")],
                      responses: [200: ("Newest last", ["type": "array", "items": S.ref("OutboxEntry")])]),
            Operation(method: "get", path: "/api/email-preview", summary: "Email templates rendered (development and testing only)", tag: "Development",
                      parameters: [query("template", "verification, phone-verification, login or password-reset"), query("format", "html (default) or text")],
                      responses: merge([200: ("HTML or text", nil)], errors(404))),

            Operation(method: "post", path: "/api/auth/register", summary: "Create an account and send a 6-digit code", tag: "Auth",
                      body: S.ref("RegisterRequest"), responses: merge([201: ("Created", S.ref("RegisterResponse"))], errors(400, 409, 429, 502))),
            Operation(method: "post", path: "/api/auth/verify-email", summary: "Verify the email code; signs in", tag: "Auth",
                      body: S.ref("VerifyCodeRequest"), responses: merge([200: ("Verified", S.ref("AuthResponse"))], authErrors)),
            Operation(method: "post", path: "/api/auth/verify-phone", summary: "Verify the SMS code; signs in", tag: "Auth",
                      body: S.ref("VerifyCodeRequest"), responses: merge([200: ("Verified", S.ref("AuthResponse"))], authErrors)),
            Operation(method: "post", path: "/api/auth/resend-verification", summary: "Send a new signup code (one per 30 s)", tag: "Auth",
                      body: S.ref("ResendRequest"), responses: merge([200: ("Sent", S.ref("AuthResponse"))], errors(400, 404, 429, 502))),
            Operation(method: "post", path: "/api/auth/login", summary: "Check credentials and send a login code", tag: "Auth",
                      body: S.ref("LoginRequest"), responses: merge([200: ("Next step", S.ref("AuthResponse"))], errors(400, 401, 429, 502))),
            Operation(method: "post", path: "/api/auth/login/verify", summary: "Finish login with the code (and TimeOTP when 2FA is on)", tag: "Auth",
                      body: S.ref("LoginVerifyRequest"), responses: merge([200: ("Token, or requiresTwoFactor", S.ref("AuthResponse"))], authErrors)),
            Operation(method: "post", path: "/api/auth/forgot-password", summary: "Send a password reset code if the account exists", tag: "Auth",
                      body: S.ref("ForgotPasswordRequest"), responses: merge([200: ("Always", S.ref("Message"))], errors(400, 429))),
            Operation(method: "post", path: "/api/auth/reset-password", summary: "Set a new password with the reset code; ends all sessions", tag: "Auth",
                      body: S.ref("ResetPasswordRequest"), responses: merge([200: ("Updated", S.ref("Message"))], errors(400, 429))),
            Operation(method: "post", path: "/api/auth/2fa/setup", summary: "Start TimeOTP setup: secret, otpauth URL, QR code", tag: "Auth", secured: true,
                      responses: merge([200: ("Setup", S.ref("TwoFactorSetup"))], errors(401, 409))),
            Operation(method: "post", path: "/api/auth/2fa/verify", summary: "Enable 2FA with a current TimeOTP", tag: "Auth", secured: true,
                      body: S.ref("TwoFactorTokenRequest"), responses: merge([200: ("Enabled", S.ref("Message"))], errors(400, 401, 409))),
            Operation(method: "post", path: "/api/auth/2fa/disable", summary: "Disable 2FA with a current TimeOTP", tag: "Auth", secured: true,
                      body: S.ref("TwoFactorTokenRequest"), responses: merge([200: ("Disabled", S.ref("Message"))], errors(400, 401))),
            Operation(method: "post", path: "/api/auth/logout", summary: "Revoke this token", tag: "Auth", secured: true,
                      responses: merge([200: ("Logged out", S.ref("Message"))], errors(401))),

            Operation(method: "get", path: "/api/users", summary: "Verified users except me", tag: "Users", secured: true,
                      parameters: [limit(max: 200, default: 50), uuidQuery("cursor", "nextCursor of the previous page")],
                      responses: merge([200: ("A page", S.ref("UserPage"))], errors(400, 401))),
            Operation(method: "get", path: "/api/users/me", summary: "My profile", tag: "Users", secured: true,
                      responses: merge([200: ("Me", S.ref("User"))], errors(401))),
            Operation(method: "put", path: "/api/users/me", summary: "Update my profile", tag: "Users", secured: true,
                      body: S.ref("ProfileUpdate"), responses: merge([200: ("Updated", S.ref("User"))], errors(400, 401))),
            Operation(method: "get", path: "/api/users/check-username", summary: "Is a username free?", tag: "Users",
                      parameters: [query("username", "with or without @", required: true, schema: ["type": "string", "minLength": 1])],
                      responses: merge([200: ("Answer", S.ref("Availability"))], errors(400))),
            Operation(method: "get", path: "/api/users/suggest-username", summary: "Up to 5 free usernames like this one", tag: "Users",
                      parameters: [query("username", "the wanted name", required: true, schema: ["type": "string", "minLength": 1])],
                      responses: merge([200: ("Suggestions", S.ref("Suggestions"))], errors(400))),
            Operation(method: "get", path: "/api/users/search", summary: "Find people by username or display name", tag: "Users", secured: true,
                      parameters: [query("q", "text contained in the username or display name (none: no one)", schema: ["type": "string", "maxLength": 100])],
                      responses: merge([200: ("Up to 20", S.ref("UserList"))], errors(400, 401))),
            Operation(method: "get", path: "/api/users/{username}", summary: "A public profile", tag: "Users", secured: true,
                      parameters: [path("username")], responses: merge([200: ("Profile", S.ref("PublicUser"))], errors(401, 404))),
            Operation(method: "post", path: "/api/users/profile-image", summary: "Upload my profile image", tag: "Users", secured: true,
                      body: imageUpload("profileImage", limit: "5 MB"), bodyType: "multipart/form-data",
                      responses: merge([200: ("Its URL", S.object(["profileImage": S.string]))], errors(400, 401, 413, 415))),
            Operation(method: "delete", path: "/api/users/profile-image", summary: "Remove my profile image", tag: "Users", secured: true,
                      responses: merge([200: ("Removed", S.object(["profileImage": ["type": "null"]]))], errors(401))),
            Operation(method: "post", path: "/api/users/cover-image", summary: "Upload my cover image", tag: "Users", secured: true,
                      body: imageUpload("coverImage", limit: "10 MB"), bodyType: "multipart/form-data",
                      responses: merge([200: ("Its URL", S.object(["coverImage": S.string]))], errors(400, 401, 413, 415))),
            Operation(method: "delete", path: "/api/users/cover-image", summary: "Remove my cover image", tag: "Users", secured: true,
                      responses: merge([200: ("Removed", S.object(["coverImage": ["type": "null"]]))], errors(401))),

            Operation(method: "get", path: "/uploads/{path}", summary: "An uploaded file (local storage)", tag: "Files",
                      parameters: [path("path")], responses: merge([200: ("The file", nil)], errors(404))),

            Operation(method: "get", path: "/api/messages/conversations", summary: "My conversations, newest activity first", tag: "Messages", secured: true,
                      responses: merge([200: ("Conversations", S.ref("ConversationList"))], errors(401))),
            Operation(method: "get", path: "/api/users/conversations", summary: "Same as /api/messages/conversations", tag: "Messages", secured: true,
                      responses: merge([200: ("Conversations", S.ref("ConversationList"))], errors(401))),
            Operation(method: "get", path: "/api/messages/history", summary: "A page of a conversation's messages, oldest first (marks nothing read)", tag: "Messages", secured: true,
                      parameters: [uuidQuery("otherUserId", "the other person of a direct conversation (exactly one of these three)"),
                                   uuidQuery("groupId", "a group"), uuidQuery("conversationId", "a conversation"), limit(max: 200, default: 50),
                                   uuidQuery("before", "message id: the page before it"), uuidQuery("after", "message id: the page after it"),
                                   uuidQuery("around", "message id: it with the messages just before and after (a search hit)")],
                      responses: merge([200: ("Messages", S.ref("History"))], errors(400, 401, 403, 404))),
            Operation(method: "post", path: "/api/messages", summary: "Send a text message (idempotent by clientMessageId)", tag: "Messages", secured: true,
                      body: S.ref("SendMessageRequest"),
                      responses: merge([201: ("Stored and delivered", S.ref("ChatMessage")), 200: ("Already sent with this clientMessageId", S.ref("ChatMessage"))],
                                       errors(400, 401, 403, 404, 409))),
            Operation(method: "post", path: "/api/messages/read", summary: "Mark messages read up to one", tag: "Messages", secured: true,
                      body: S.ref("ReadRequest"), responses: merge([200: ("Marked", S.object(["success": S.bool]))], errors(400, 401, 403, 404))),
            Operation(method: "get", path: "/api/sync", summary: "Every change after a cursor, as current state (no `since`: the cursor of now)", tag: "Messages", secured: true,
                      parameters: [query("since", "a cursor from a previous page, GET /api/sync, or a live event",
                                         schema: ["type": "string", "pattern": "^[0-9]+\\.[0-9a-f]+$"]),
                                   limit(max: 5000, default: 200)],
                      responses: merge([200: ("A page of changes", S.ref("SyncPage"))], errors(400, 401, 410))),
            Operation(method: "get", path: "/api/search", summary: "Full-text search over the messages of one's conversations (words, prefix*, \"phrases\", from:@user, in:#group or in:@user, has:file|image|audio, before:/after:YYYY-MM-DD)", tag: "Messages", secured: true,
                      parameters: [query("q", "the search as typed (at most 500 characters)", required: true, schema: ["type": "string", "maxLength": 500]),
                                   uuidQuery("conversationId", "only this conversation"), uuidQuery("from", "only messages from this user"),
                                   query("before", "sent before (ISO 8601 date or date-time)", schema: ["type": "string", "format": "date-time"]),
                                   query("after", "sent at or after (ISO 8601 date or date-time)", schema: ["type": "string", "format": "date-time"]),
                                   query("sort", "relevance (default) or date (newest first)", schema: ["type": "string", "enum": ["relevance", "date"]]),
                                   query("cursor", "nextCursor of the previous page", schema: ["type": "string", "pattern": "^o[0-9]{1,5}$"]),
                                   limit(max: 50, default: 20)],
                      responses: merge([200: ("Hits, best first", S.ref("SearchPage"))], errors(400, 401))),
            Operation(method: "get", path: "/api/link-preview", summary: "A preview card for a link in a message: the page's title, description, site and picture (fetched by the server: http(s), public addresses and default ports only in production, 5 s and 512 KB at most, cached for an hour)", tag: "Messages", secured: true,
                      parameters: [query("url", "the link (http or https, at most 2,048 characters)", required: true,
                                         schema: ["type": "string", "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\u0000]+$"])],
                      responses: merge([200: ("The card", S.ref("LinkPreview"))], errors(400, 401, 403, 422, 429))),
            Operation(method: "get", path: "/api/link-preview/image", summary: "A preview card's picture, through this server (the card's `image` URL; no token, the signature is the permission)", tag: "Messages",
                      parameters: [query("url", "the picture's address", required: true), query("sig", "the signature from the card's URL", required: true)],
                      responses: merge([200: ("The picture (JPEG, PNG, WebP or GIF, at most 1 MB)", nil)], errors(400, 403, 422, 429))),
            Operation(method: "put", path: "/api/messages/conversations/{conversationId}/mute", summary: "Turn my push notifications for a conversation off (for good or until a date) or on again", tag: "Messages", secured: true,
                      body: S.object(["muted": S.bool, "until": ["type": "string", "format": "date-time", "description": "muted until then (in the future); absent: until turned off"]], required: ["muted"]),
                      parameters: [path("conversationId")],
                      responses: merge([200: ("The mute", S.ref("ConversationMute"))], errors(400, 401, 403, 404))),

            Operation(method: "get", path: "/api/push/key", summary: "The server's VAPID public key, for PushManager.subscribe", tag: "Push", secured: true,
                      responses: merge([200: ("The key", S.object(["publicKey": S.string], required: ["publicKey"]))],
                                       errors(401).merging(pushOff) { a, _ in a })),
            Operation(method: "get", path: "/api/push/subscriptions", summary: "My devices' push subscriptions", tag: "Push", secured: true,
                      responses: merge([200: ("Subscriptions, oldest first", S.object(["subscriptions": ["type": "array", "items": S.ref("PushSubscription")]], required: ["subscriptions"]))], errors(401))),
            Operation(method: "post", path: "/api/push/subscriptions", summary: "Register this device's push subscription (again: updated, and tied to this session)", tag: "Push", secured: true,
                      body: S.ref("PushSubscriptionRequest"),
                      responses: merge([201: ("Registered", S.ref("PushSubscription")), 200: ("Already registered: updated", S.ref("PushSubscription"))],
                                       errors(400, 401).merging(pushOff) { a, _ in a })),
            Operation(method: "delete", path: "/api/push/subscriptions", summary: "Stop push notifications to a device of mine", tag: "Push", secured: true,
                      body: S.object(["endpoint": S.string], required: ["endpoint"]),
                      responses: merge([204: ("Removed", nil)], errors(400, 401, 404))),
            Operation(method: "get", path: "/api/messages/{messageId}/edits", summary: "The edit history of a message", tag: "Messages", secured: true,
                      parameters: [path("messageId")], responses: merge([200: ("Edits, oldest first", S.ref("EditHistory"))], errors(401, 403, 404))),

            Operation(method: "post", path: "/api/messages/upload", summary: "Send a file, image, audio or voice note (type decided by its bytes)", tag: "Messages", secured: true,
                      body: S.object(["file": ["type": "string", "format": "binary"], "recipientId": S.uuid, "groupId": S.uuid,
                                      "type": ["type": "string", "description": "voice for a recorded voice note"],
                                      "waveform": ["type": "string", "description": "JSON array of 1–200 numbers in [0,1]"],
                                      "duration": ["type": "number"], "caption": S.string, "replyToId": S.uuid, "clientMessageId": S.string],
                                     required: ["file"]), bodyType: "multipart/form-data",
                      responses: merge([201: ("Stored and delivered", S.ref("UploadResult")), 200: ("Already sent with this clientMessageId", S.ref("UploadResult"))],
                                       errors(400, 401, 403, 404, 409, 413, 415))),
            Operation(method: "patch", path: "/api/messages/{messageId}/waveform", summary: "Store the real waveform of an audio message", tag: "Messages", secured: true,
                      body: S.object(["waveform": ["type": "array", "items": ["type": "number", "minimum": 0, "maximum": 1], "minItems": 1, "maxItems": 200],
                                      "duration": ["type": "number"]], required: ["waveform"]),
                      parameters: [path("messageId")], responses: merge([200: ("Stored", S.object(["success": S.bool]))], errors(400, 401, 403, 404))),
            Operation(method: "post", path: "/api/groups", summary: "Create a group (I am its owner)", tag: "Groups", secured: true,
                      body: S.ref("CreateGroupRequest"), responses: merge([201: ("Created", S.ref("Group"))], errors(400, 401))),
            Operation(method: "get", path: "/api/groups", summary: "My groups", tag: "Groups", secured: true,
                      responses: merge([200: ("Groups", S.object(["groups": ["type": "array", "items": S.ref("Group")]]))], errors(401))),
            Operation(method: "get", path: "/api/groups/{groupId}", summary: "A group with its members (members only)", tag: "Groups", secured: true,
                      parameters: [path("groupId")], responses: merge([200: ("Group", S.ref("Group"))], errors(401, 403, 404))),
            Operation(method: "put", path: "/api/groups/{groupId}", summary: "Rename or describe (owner or admin)", tag: "Groups", secured: true,
                      body: S.object(["name": ["type": ["string", "null"], "minLength": 1, "maxLength": 100],
                                      "description": ["type": ["string", "null"], "maxLength": 500]]), parameters: [path("groupId")],
                      responses: merge([200: ("Group", S.ref("Group"))], errors(400, 401, 403, 404))),
            Operation(method: "delete", path: "/api/groups/{groupId}", summary: "Delete (owner)", tag: "Groups", secured: true,
                      parameters: [path("groupId")], responses: merge([200: ("Deleted", S.object(["success": S.bool]))], errors(401, 403, 404))),
            Operation(method: "post", path: "/api/groups/{groupId}/join", summary: "Join with an invite link's token (a member asking again needs none)", tag: "Groups", secured: true,
                      body: S.object(["inviteToken": S.string]), bodyRequired: false, parameters: [path("groupId")],
                      responses: merge([200: ("Group", S.ref("Group"))], errors(400, 401, 403, 404))),
            Operation(method: "post", path: "/api/groups/{groupId}/invites", summary: "Make an invite link (owner or admin), optionally expiring or limited in uses", tag: "Groups", secured: true,
                      body: S.object(["expiresInHours": ["type": "integer", "minimum": 1, "maximum": .number(Double(GroupInvites.maxLifetimeHours))],
                                      "maxUses": ["type": "integer", "minimum": 1, "maximum": .number(Double(GroupInvites.maxUses))]]),
                      bodyRequired: false, parameters: [path("groupId")],
                      responses: merge([201: ("The invite", S.ref("GroupInvite"))], errors(400, 401, 403, 404, 409))),
            Operation(method: "get", path: "/api/groups/{groupId}/invites", summary: "The group's usable invite links (owner or admin)", tag: "Groups", secured: true,
                      parameters: [path("groupId")],
                      responses: merge([200: ("Invites, newest first", S.object(["invites": ["type": "array", "items": S.ref("GroupInvite")]], required: ["invites"]))],
                                       errors(401, 403, 404))),
            Operation(method: "delete", path: "/api/groups/{groupId}/invites/{token}", summary: "Revoke an invite link (owner or admin)", tag: "Groups", secured: true,
                      parameters: [path("groupId"), path("token")],
                      responses: merge([200: ("Revoked", S.object(["success": S.bool]))], errors(401, 403, 404))),
            Operation(method: "get", path: "/api/invites/{token}", summary: "What an invite link leads to: the group's name and size, before joining", tag: "Groups", secured: true,
                      parameters: [path("token")],
                      responses: merge([200: ("The group", S.ref("InvitePreview"))], errors(401, 404))),
            Operation(method: "post", path: "/api/invites/{token}/join", summary: "Join the group an invite link leads to", tag: "Groups", secured: true,
                      parameters: [path("token")],
                      responses: merge([200: ("Group", S.ref("Group"))], errors(401, 404))),
            Operation(method: "post", path: "/api/groups/{groupId}/leave", summary: "Leave (ownership passes on; the last one out deletes it)", tag: "Groups", secured: true,
                      parameters: [path("groupId")], responses: merge([200: ("Left", S.object(["success": S.bool]))], errors(401, 403, 404))),
            Operation(method: "post", path: "/api/groups/{groupId}/members", summary: "Add a member (owner or admin)", tag: "Groups", secured: true,
                      body: S.object(["userId": S.uuid], required: ["userId"]), parameters: [path("groupId")],
                      responses: merge([200: ("Group", S.ref("Group"))], errors(400, 401, 403, 404, 409))),
            Operation(method: "delete", path: "/api/groups/{groupId}/members/{userId}", summary: "Remove a member (owner or admin)", tag: "Groups", secured: true,
                      parameters: [path("groupId"), path("userId")], responses: merge([200: ("Removed", S.object(["success": S.bool]))], errors(400, 401, 403, 404))),
            Operation(method: "get", path: "/api/groups/{groupId}/messages", summary: "Group history, as /api/messages/history", tag: "Groups", secured: true,
                      parameters: [path("groupId"), limit(max: 200, default: 50), uuidQuery("before", "message id"), uuidQuery("after", "message id")],
                      responses: merge([200: ("Messages", S.ref("History"))], errors(400, 401, 403, 404))),
            Operation(method: "post", path: "/api/groups/{groupId}/messages", summary: "Send to the group (idempotent by clientMessageId)", tag: "Groups", secured: true,
                      body: S.object(["content": ["type": "string", "minLength": 1, "maxLength": 10000],
                                      "clientMessageId": ["type": "string", "minLength": 1, "maxLength": 100], "replyToId": S.uuid],
                                     required: ["content"]), parameters: [path("groupId")],
                      responses: merge([201: ("Stored", S.ref("ChatMessage")), 200: ("Already sent", S.ref("ChatMessage"))], errors(400, 401, 403, 404, 409))),

            Operation(method: "get", path: "/socket.io", summary: "Socket.IO v4 endpoint: Engine.IO long-polling GET, or the WebSocket upgrade (see SPEC §7 for events)", tag: "Realtime",
                      parameters: [query("EIO", "4", required: true, schema: ["type": "string", "enum": ["4"]]),
                                   query("transport", "polling or websocket", required: true, schema: ["type": "string", "enum": ["polling", "websocket"]]),
                                   query("sid", "session id"),
                                   query("token", "JWT, when not in the CONNECT payload or the Authorization header")],
                      responses: [200: ("Engine.IO payload", nil), 101: ("Switching to WebSocket", nil), 400: ("Engine.IO error {code, message}", nil)]),
            Operation(method: "post", path: "/socket.io", summary: "Socket.IO long-polling: packets from the client", tag: "Realtime",
                      parameters: [query("EIO", "4", required: true, schema: ["type": "string", "enum": ["4"]]),
                                   query("transport", "polling", required: true, schema: ["type": "string", "enum": ["polling"]]),
                                   query("sid", "session id", required: true)],
                      responses: [200: ("ok", nil), 400: ("Engine.IO error {code, message}", nil), 413: ("Payload over maxPayload", nil)]),
            Operation(method: "options", path: "/socket.io", summary: "CORS preflight for long-polling", tag: "Realtime",
                      responses: [200: ("Preflight answered", nil), 400: ("Engine.IO error {code, message}", nil)]),
        ]
    }

    /// What any operation of its kind can answer besides its own: a malformed query string (400);
    /// for a JSON body, a missing or malformed one (400), one over the limit (413), another media
    /// type (415).
    static func withCommonResponses(_ op: Operation) -> Operation {
        var op = op
        var common: [Int] = []
        if !op.parameters.isEmpty { common.append(400) }
        if op.body != nil { common += [400, 413, 415] }
        for code in common where op.responses[code] == nil { op.responses[code] = (errorCodes[code]!, S.ref("Error")) }
        return op
    }

    static func build(serverURL: String, productName: String) -> JSONValue {
        var paths: [String: [String: JSONValue]] = [:]
        for op in operations.map(withCommonResponses) {
            var operation: [String: JSONValue] = [
                "summary": .string(op.summary),
                "tags": [.string(op.tag)],
                "operationId": .string(op.method + op.path.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()),
                "responses": .object(Dictionary(uniqueKeysWithValues: op.responses.map { code, response in
                    var body: [String: JSONValue] = ["description": .string(response.description)]
                    if let schema = response.schema { body["content"] = ["application/json": ["schema": schema]] }
                    return (String(code), JSONValue.object(body))
                })),
            ]
            if op.secured { operation["security"] = [["bearerAuth": []]] }
            if let body = op.body {
                operation["requestBody"] = ["required": .bool(op.bodyRequired), "content": .object([op.bodyType: ["schema": S.optionalsAcceptNull(body)]])]
            }
            if !op.parameters.isEmpty { operation["parameters"] = .array(op.parameters) }
            paths[op.path, default: [:]][op.method] = .object(operation)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": .string("\(productName) API"), "version": "1.0.0",
                     "description": "REST API of Chatr, a self-hostable real-time messaging platform. Errors are {\"error\": message}."],
            "servers": [["url": .string(serverURL)]],
            "paths": S.refusingNUL(.object(paths.mapValues { .object($0) })),
            "components": [
                "schemas": S.refusingNUL(.object(S.all.mapValues(S.optionalsAcceptNull))),
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
            ],
        ]
    }
}
