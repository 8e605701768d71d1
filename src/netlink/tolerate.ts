/** Which iproute2 errors mean "already in the desired state" for an op (see the semantics in ./ops.ts). */
import type { Op } from './ops.js';

const EXISTS = /File exists/iu;
const MISSING = /No such file or directory|No such process|Cannot find device|does not exist|not found|No such device/iu;
/** tc's answers to deleting a qdisc that is not there (root: the default has handle 0; ingress/clsact: no such handle). */
const QDISC_MISSING = /Cannot delete qdisc with handle of zero|Invalid handle|Cannot find specified qdisc/iu;
/** tc's answers to deleting a filter that is not there: no filter at that pref, or no clsact qdisc to hold one. */
const FILTER_MISSING = /Filter with specified priority\/protocol not found|Parent Qdisc doesn't exists|Cannot find specified filter chain/iu;

export function isTolerated(op: Op, errorText: string): boolean {
  switch (op.kind) {
    case 'rule.add':
    case 'link.ifb':
      return EXISTS.test(errorText);
    case 'link.ipvlan':
      return op.ensure === true && EXISTS.test(errorText);
    case 'qdisc.del':
      return MISSING.test(errorText) || QDISC_MISSING.test(errorText);
    case 'filter.del':
      return MISSING.test(errorText) || FILTER_MISSING.test(errorText);
    case 'link.del':
    case 'route.del':
    case 'rule.del':
      return MISSING.test(errorText);
    case 'link.veth':
    case 'link.up':
    case 'addr.replace':
    case 'route.replace':
    case 'neigh.replace':
    case 'sysctl.set':
    case 'qdisc.replace':
    case 'filter.redirect':
    case 'filter.u32-dst':
    case 'link.move':
    case 'link.arp-off':
      return false;
  }
}
