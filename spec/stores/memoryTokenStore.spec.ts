import { ManualTimeScheduler, memoryTokenStore } from '../../src/index';
import { tokenStoreConformance } from './conformance';

describe('memoryTokenStore: the store conformance suite, in virtual time', () => {
  tokenStoreConformance(() => {
    const scheduler = new ManualTimeScheduler();
    return {
      store: () => memoryTokenStore({ scheduler }),
      sameBucket: (store) => store,
      scheduler,
      settle: (ms) => {
        scheduler.advanceBy(ms);
        return Promise.resolve();
      },
      tolerance: 0,
    };
  });
});
