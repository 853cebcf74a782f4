import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDays,
  addMonths,
  daysInMonth,
  diffInDays,
  endOf,
  isLeapYear,
  startOf,
} from '../src/index.js';

const iso = (date) => date.toISOString();
const at = (...parts) => new Date(Date.UTC(...parts));

describe('calendar', () => {
  it('knows ordinary leap years', () => {
    assert.equal(isLeapYear(2024), true);
    assert.equal(isLeapYear(2023), false);
  });

  it('counts the days in a month', () => {
    assert.equal(daysInMonth(2024, 1), 31);
    assert.equal(daysInMonth(2024, 4), 30);
    assert.equal(daysInMonth(2024, 2), 29);
    assert.equal(daysInMonth(2023, 2), 28);
  });

  it('adds days across month boundaries', () => {
    assert.equal(iso(addDays(at(2024, 0, 30), 3)), '2024-02-02T00:00:00.000Z');
    assert.equal(iso(addDays(at(2024, 2, 1), -1)), '2024-02-29T00:00:00.000Z');
  });

  it('adds months in the middle of a month', () => {
    assert.equal(iso(addMonths(at(2024, 0, 15, 8), 1)), '2024-02-15T08:00:00.000Z');
    assert.equal(iso(addMonths(at(2024, 0, 15), -2)), '2023-11-15T00:00:00.000Z');
  });

  it('does not modify its input', () => {
    const date = at(2024, 0, 15);
    addMonths(date, 1);
    assert.equal(iso(date), '2024-01-15T00:00:00.000Z');
  });

  it('counts whole calendar days between dates', () => {
    assert.equal(diffInDays(at(2024, 2, 1, 1), at(2024, 1, 28, 23)), 2);
    assert.equal(diffInDays(at(2024, 0, 1), at(2024, 0, 10)), -9);
  });

  it('finds the start and end of a period', () => {
    const date = at(2024, 4, 17, 13, 45, 10);
    assert.equal(iso(startOf(date, 'month')), '2024-05-01T00:00:00.000Z');
    assert.equal(iso(startOf(date, 'hour')), '2024-05-17T13:00:00.000Z');
    assert.equal(iso(endOf(date, 'day')), '2024-05-17T23:59:59.999Z');
    assert.equal(iso(endOf(date, 'year')), '2024-12-31T23:59:59.999Z');
  });

  it('rejects unknown units', () => {
    assert.throws(() => startOf(at(2024, 0, 1), 'fortnight'), RangeError);
  });
});
