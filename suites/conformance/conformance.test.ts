// The conformance suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
import { bindSuite } from '../support/bind-suite.js';
import { CONFORMANCE_SUITE, conformanceChecks } from './conformance.suite.js';

bindSuite(CONFORMANCE_SUITE, (target) => conformanceChecks(target));
