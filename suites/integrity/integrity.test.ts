// The integrity suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
import { bindSuite } from '../support/bind-suite.js';
import { INTEGRITY_SUITE, integrityChecks } from './integrity.suite.js';

bindSuite(INTEGRITY_SUITE, (target) => integrityChecks(target));
