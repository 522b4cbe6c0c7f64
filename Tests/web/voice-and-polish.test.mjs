// Pure rules behind the voice note controls, counted nouns and the development-only Test Lab button.
import test from 'node:test';
import assert from 'node:assert/strict';
import { plural } from '../../Public/lib/plural.js';
import { PLAYBACK_RATES, nextRate, rateLabel, timeAt } from '../../Public/lib/playback.js';
import { showsTestLabButton } from '../../Public/lib/dev-mode.js';

test('plural: one is singular, zero and many are plural, irregular plurals are given', () => {
  assert.equal(plural(1, 'member'), '1 member');
  assert.equal(plural(0, 'member'), '0 members');
  assert.equal(plural(2, 'member'), '2 members');
  assert.equal(plural(1, 'person', 'people'), '1 person');
  assert.equal(plural(5, 'person', 'people'), '5 people');
});

test('playback speed cycles 1× → 1.5× → 2× → 1×, and an unknown speed starts over at the first step', () => {
  assert.deepEqual(PLAYBACK_RATES, [1, 1.5, 2]);
  assert.equal(nextRate(1), 1.5);
  assert.equal(nextRate(1.5), 2);
  assert.equal(nextRate(2), 1);
  assert.equal(nextRate(0.75), 1);
  assert.deepEqual(PLAYBACK_RATES.map(rateLabel), ['1×', '1.5×', '2×']);
});

test('seeking: a point of the waveform is that share of the duration, clamped to the ends', () => {
  assert.equal(timeAt(0.5, 8), 4);
  assert.equal(timeAt(-0.2, 8), 0);
  assert.equal(timeAt(1.3, 8), 8);
  assert.equal(timeAt(0.5, Infinity), 0, 'a length not known yet seeks nowhere');
  assert.equal(timeAt(0.5, 0), 0);
});

test('the Test Lab button shows for a server in development only', () => {
  assert.equal(showsTestLabButton({ mode: 'development' }), true);
  assert.equal(showsTestLabButton({ mode: 'testing' }), false);
  assert.equal(showsTestLabButton({ mode: 'production' }), false);
  assert.equal(showsTestLabButton({}), false, 'an older server that does not say: no button');
  assert.equal(showsTestLabButton(null), false, 'the config could not be read: no button');
});
