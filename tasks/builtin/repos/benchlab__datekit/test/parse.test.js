import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidISO, parseISO } from '../src/index.js';

describe('parseISO', () => {
  it('reads a calendar date as UTC midnight', () => {
    assert.equal(parseISO('2024-03-09').toISOString(), '2024-03-09T00:00:00.000Z');
  });

  it('reads a date and time in UTC', () => {
    assert.equal(parseISO('2024-03-09T14:05:30Z').toISOString(), '2024-03-09T14:05:30.000Z');
    assert.equal(parseISO('2024-03-09T14:05').toISOString(), '2024-03-09T14:05:00.000Z');
  });

  it('reads fractional seconds', () => {
    assert.equal(parseISO('2024-03-09T14:05:30.5Z').toISOString(), '2024-03-09T14:05:30.500Z');
  });

  it('accepts February 29th in a leap year', () => {
    assert.equal(parseISO('2024-02-29').toISOString(), '2024-02-29T00:00:00.000Z');
  });

  it('rejects days that do not exist', () => {
    assert.throws(() => parseISO('2023-02-29'), RangeError);
    assert.throws(() => parseISO('2024-04-31'), RangeError);
    assert.throws(() => parseISO('2024-13-01'), RangeError);
  });

  it('rejects malformed text', () => {
    assert.throws(() => parseISO('09/03/2024'), RangeError);
    assert.throws(() => parseISO('2024-03-09T25:00Z'), RangeError);
    assert.equal(isValidISO('2024-3-9'), false);
    assert.equal(isValidISO('2024-03-09'), true);
  });
});
