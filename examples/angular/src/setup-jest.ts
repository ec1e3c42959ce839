// The app runs without zone.js (zoneless change detection), and so do its tests.
import { setupZonelessTestEnv } from 'jest-preset-angular/setup-env/zoneless';

setupZonelessTestEnv();
