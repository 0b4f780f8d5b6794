import { describeGovernanceStore } from './limits-store.contract';
import { MemoryLimitsStore } from './memory-limits.store';

describeGovernanceStore(
  'in-process',
  () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0, 250);
    return { store: new MemoryLimitsStore(() => now), advance: (ms) => (now += ms) };
  },
  { movableClock: true },
);
