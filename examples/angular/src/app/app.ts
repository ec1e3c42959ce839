import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    <nav>
      <strong>rxjs-backpressure</strong>
      <a routerLink="/search" routerLinkActive="active">Search</a>
      <a routerLink="/uploads" routerLinkActive="active">Uploads</a>
      <a routerLink="/rate-limit" routerLinkActive="active">Rate limit</a>
      <a routerLink="/playground" routerLinkActive="active">Playground</a>
    </nav>
    <main><router-outlet /></main>
  `,
  styles: `
    nav {
      display: flex;
      gap: 1.25rem;
      align-items: baseline;
      padding: 0.75rem 1.5rem;
      border-bottom: 1px solid #d0d7de;
      background: #f6f8fa;
    }
    a {
      color: #0969da;
      text-decoration: none;
    }
    a.active {
      font-weight: 600;
      text-decoration: underline;
    }
  `,
})
export class App {}
