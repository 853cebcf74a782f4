import { describe, expect, test } from 'vitest';
import { AdaptiveLimit, LocalScheduler } from '../../src/runner/index.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('local scheduler', () => {
  test('each config keeps to its own concurrency and a busy config does not starve another', async () => {
    const scheduler = new LocalScheduler({ jobs: 4, perConfig: (config) => (config === 'slow' ? 1 : 3) });
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    const finished: string[] = [];
    const jobs = [...Array(6).fill('slow'), ...Array(6).fill('fast')].map((config, i) => ({ config, id: `${config}-${i}` }));
    await scheduler.run(jobs, async (job, lane) => {
      await lane.hold(async () => {
        inFlight.set(job.config, (inFlight.get(job.config) ?? 0) + 1);
        peak.set(job.config, Math.max(peak.get(job.config) ?? 0, inFlight.get(job.config)!));
        for (let i = 0; i < (job.config === 'slow' ? 6 : 1); i++) await tick();
        inFlight.set(job.config, inFlight.get(job.config)! - 1);
      });
      finished.push(job.config);
    });
    expect(peak.get('slow')).toBe(1);
    expect(peak.get('fast')).toBe(3);
    // The fast config finished its six while the slow one was still working through its queue.
    expect(finished.slice(0, 6).filter((c) => c === 'fast').length).toBeGreaterThanOrEqual(5);
  });

  test('grading runs after the provider slot is released', async () => {
    const scheduler = new LocalScheduler({ jobs: 1, perConfig: () => 1, gradeSlots: 2 });
    const events: string[] = [];
    await scheduler.run([{ config: 'a', id: 1 }, { config: 'a', id: 2 }], async (job, lane) => {
      await lane.hold(async () => {
        events.push(`episode ${job.id}`);
        await tick();
      });
      await lane.grade(async () => {
        events.push(`grade ${job.id} start`);
        for (let i = 0; i < 4; i++) await tick();
        events.push(`grade ${job.id} end`);
      });
    });
    // The second episode starts while the first patch is still being graded.
    expect(events.indexOf('episode 2')).toBeLessThan(events.indexOf('grade 1 end'));
  });

  test('a 429 cuts a config\'s concurrency and successes bring it back to its maximum', () => {
    const pace = new AdaptiveLimit(5);
    pace.rateLimited();
    expect(pace.concurrency).toBe(4);
    pace.rateLimited();
    pace.rateLimited();
    expect(pace.concurrency).toBe(2);
    for (let i = 0; i < 5; i++) pace.succeeded();
    expect(pace.concurrency).toBe(3);
    for (let i = 0; i < 50; i++) pace.succeeded();
    expect(pace.concurrency).toBe(5);
    for (let i = 0; i < 20; i++) pace.rateLimited();
    expect(pace.concurrency).toBe(1);
  });
});
