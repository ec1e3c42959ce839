// Test helpers for users' own tests (filled in by the virtual-time issue).
export {};
