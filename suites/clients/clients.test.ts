// The clients suite bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see suites/support/global-setup.ts.
// One check at a time: each runs real clients (and a containerd daemon) that want the two cores to themselves.
import { bindSuite } from '../support/bind-suite.js';
import { CLIENTS_SUITE, clientsChecks } from './clients.suite.js';

bindSuite(CLIENTS_SUITE, (target) => clientsChecks(target), { concurrent: false });
