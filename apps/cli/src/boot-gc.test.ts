import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { youngGenerationCollector } from './boot-gc.js';

describe('youngGenerationCollector', () => {
  it('runs a scavenge, and only a scavenge, while it is called', async () => {
    const collect = youngGenerationCollector();
    expect(collect).toBeTypeOf('function');
    const seen: { kind: number; start: number }[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        seen.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind, start: e.startTime });
    });
    obs.observe({ entryTypes: ['gc'] });
    const from = performance.now();
    collect!();
    const to = performance.now();
    // GC entries are delivered asynchronously.
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    const during = seen.filter((e) => e.start >= from && e.start <= to).map((e) => e.kind);
    expect(during).toEqual([constants.NODE_PERFORMANCE_GC_MINOR]);
  });

  it('leaves no gc function behind and V8 still takes code caches made before', () => {
    const source = 'function add(a, b) { return a + b } add(1, 2)';
    const made = new Script(source, { filename: 'boot-gc-cache.js' });
    made.runInThisContext();
    const cachedData = made.createCachedData();
    youngGenerationCollector();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const again = new Script(source, { filename: 'boot-gc-cache.js', cachedData });
    expect(again.cachedDataRejected).toBe(false);
  });
});
