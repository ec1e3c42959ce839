import type { Routes } from '@angular/router';
import { PlaygroundPage } from './playground/playground-page';
import { RateLimitPage } from './rate-limit/rate-limit-page';
import { SearchPage } from './search/search-page';
import { UploadsPage } from './uploads/uploads-page';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'search' },
  { path: 'search', component: SearchPage, title: 'Search as you type' },
  { path: 'uploads', component: UploadsPage, title: 'Upload queue' },
  { path: 'rate-limit', component: RateLimitPage, title: 'Rate-limited API' },
  { path: 'playground', component: PlaygroundPage, title: 'Playground' },
  { path: '**', redirectTo: 'search' },
];
