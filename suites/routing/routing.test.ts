// The routing suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
import { bindSuite } from '../support/bind-suite.js';
import { ROUTING_SUITE, routingChecks } from './routing.suite.js';

bindSuite(ROUTING_SUITE, (target) => routingChecks(target));
