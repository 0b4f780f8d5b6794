import { describeGovernanceStore } from './governance-store.contract';
import { MemoryGovernanceStore } from './memory-governance.store';

describeGovernanceStore(
  'in-process',
  () => {
    let now = Date.UTC(2026, 10, 26, 12, 0, 0, 250);
    return { store: new MemoryGovernanceStore(() => now), advance: (ms) => (now += ms) };
  },
  { movableClock: true },
);
