/** The e2e harness: a real n8n (1.123 on Node 20, 2.41 on Node 24) with this package installed. */
export * from './paths';
export * from './ports';
export * from './install';
export * from './process';
export * from './api';
export * from './session';
