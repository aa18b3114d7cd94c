// The README walk-through with AWS CLI v1 (what pip installs; `npm test` provides it when missing).
import { walkthroughSuite } from './walkthrough.js';

walkthroughSuite('1', true);
