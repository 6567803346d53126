// The error type: codes map to distinct exit statuses and messages stay one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StyleloomError, exitCodeFor, isStyleloomError } from '../src/errors.js';

test('StyleloomError carries its code and message', () => {
  const e = new StyleloomError('E_INPUT', 'cat.png: no such file; check the path');
  assert.equal(e.code, 'E_INPUT');
  assert.equal(e.message, 'cat.png: no such file; check the path');
  assert.ok(isStyleloomError(e));
  assert.ok(!isStyleloomError(new Error('x')));
});

test('exit codes: usage 2, abort 130, others 1', () => {
  assert.equal(exitCodeFor('E_USAGE'), 2);
  assert.equal(exitCodeFor('E_ABORTED'), 130);
  assert.equal(exitCodeFor('E_WEIGHTS'), 1);
  assert.equal(exitCodeFor('E_INTERNAL'), 70);
});
