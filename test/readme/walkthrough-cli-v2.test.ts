// The README walk-through with AWS CLI v2, where one is installed (CI installs Debian's and requires it).
import { walkthroughSuite } from './walkthrough.js';

walkthroughSuite('2', process.env['CI'] === 'true');
