// The mirror suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
import { bindSuite } from '../support/bind-suite.js';
import { MIRROR_SUITE, mirrorChecks } from './mirror.suite.js';

bindSuite(MIRROR_SUITE, (target) => mirrorChecks(target));
