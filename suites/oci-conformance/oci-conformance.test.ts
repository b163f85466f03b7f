// The official conformance program bound to the local stack (or REGISTRY_CANARY_TARGET_CONFIG): see
// suites/support/global-setup.ts. Its reports go to $REGISTRY_CANARY_REPORT_DIR/oci-conformance, else
// reports/<timestamp>/oci-conformance (git-ignored).
import { bindSuite } from '../support/bind-suite.js';
import { OCI_CONFORMANCE_SUITE, ociConformanceChecks } from './oci-conformance.suite.js';

bindSuite(OCI_CONFORMANCE_SUITE, (target) => ociConformanceChecks(target));
