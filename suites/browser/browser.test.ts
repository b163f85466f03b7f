// The browser suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
// Screenshots go to $REGISTRY_CANARY_REPORT_DIR/browser, else reports/<timestamp>/browser (git-ignored).
import { bindSuite } from '../support/bind-suite.js';
import { BROWSER_SUITE, browserChecks } from './browser.suite.js';

bindSuite(BROWSER_SUITE, (target) => browserChecks(target), { concurrent: false });
