import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { format } from '../src/index.js';

const at = (...parts) => new Date(Date.UTC(...parts));

describe('format', () => {
  it('pads year, month and day', () => {
    assert.equal(format(at(2024, 0, 5), 'YYYY-MM-DD'), '2024-01-05');
    assert.equal(format(at(2024, 0, 5), 'D.M.YY'), '5.1.24');
  });

  it('writes month and weekday names', () => {
    assert.equal(format(at(2024, 2, 9), 'dddd, MMMM D'), 'Saturday, March 9');
    assert.equal(format(at(2024, 8, 2), 'ddd MMM'), 'Mon Sep');
  });

  it('writes 24-hour time with seconds and milliseconds', () => {
    assert.equal(format(at(2024, 5, 1, 7, 8, 9, 45), 'HH:mm:ss.SSS'), '07:08:09.045');
    assert.equal(format(at(2024, 5, 1, 7, 8), 'H:mm'), '7:08');
  });

  it('writes 12-hour time for afternoon hours', () => {
    assert.equal(format(at(2024, 5, 1, 15, 7), 'h:mm A'), '3:07 PM');
    assert.equal(format(at(2024, 5, 1, 21, 30), 'hh:mm a'), '09:30 pm');
  });

  it('writes 12-hour time for morning hours', () => {
    assert.equal(format(at(2024, 5, 1, 9, 41), 'h:mm A'), '9:41 AM');
  });

  it('keeps bracketed text literal', () => {
    assert.equal(format(at(2024, 0, 5, 10), '[Today is] dddd [at] HH[h]'), 'Today is Friday at 10h');
  });

  it('accepts millisecond timestamps', () => {
    assert.equal(format(Date.UTC(1999, 11, 31, 23, 59), 'YYYY-MM-DD HH:mm'), '1999-12-31 23:59');
  });

  it('does not depend on the local time zone', () => {
    assert.equal(format(at(2024, 0, 1, 0, 30), 'YYYY-MM-DD HH:mm'), '2024-01-01 00:30');
  });

  it('throws on an invalid date', () => {
    assert.throws(() => format(new Date(Number.NaN), 'YYYY'), RangeError);
  });
});
