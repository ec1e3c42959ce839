import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  provideBrowserGlobalErrorListeners,
  provideZonelessChangeDetection,
  type ApplicationConfig,
} from '@angular/core';
import { provideRouter } from '@angular/router';
import { routes } from './app.routes';
import { fakeBackendInterceptor } from './fake-backend';
import { rateLimitInterceptor } from './rate-limit/rate-limiter';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideZonelessChangeDetection(),
    provideRouter(routes),
    // The rate limit first, so that requests wait for their token before reaching the "network"
    // (here the simulated backend; in a real app, remove fakeBackendInterceptor).
    provideHttpClient(withInterceptors([rateLimitInterceptor, fakeBackendInterceptor])),
  ],
};
