import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The component tests render MUI in jsdom: 0.2-2.5 s of CPU per test, the
// first test of a file the most, as it warms the JIT up. Jest's 5 s and
// Testing Library's 1 s for findBy/waitFor are wall clock, and on the 2-core
// CI machines `backstage-cli repo test` runs two workers beside the backend's
// integration suites, whose clusters and databases want the same cores. With
// both cores oversubscribed about four times over, the slowest test here took
// 14 s. Waits end as soon as their condition holds, so these limits cost
// nothing on an idle machine; a test that really hangs still fails.
jest.setTimeout(30_000);
// Role queries skip the accessibility-tree walk (a getComputedStyle for every
// ancestor of every candidate), which was most of the CPU of these tests:
// DeployUi.test.tsx went from 51 s to 32 s on one worker. Every assertion
// held unchanged: the tests look things up by name inside the card, dialog
// or menu they act on, where hidden elements do not compete.
configure({ asyncUtilTimeout: 10_000, defaultHidden: true });
