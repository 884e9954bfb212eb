import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message, reply } from '../api/message.js';

test('the reply carries the message', () => {
  assert.ok(reply('abc').startsWith(message));
});

test('the reply names the code that answered', () => {
  assert.match(reply('abc123'), /\(code abc123\)\n$/);
  assert.match(reply(undefined), /\(code unknown\)\n$/);
});
