import { Component } from '@angular/core';

@Component({
  selector: 'app-playground-page',
  template: `<h1>Playground</h1>`,
})
export class PlaygroundPage {}
