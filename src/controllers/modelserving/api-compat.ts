// The controller works on the ModelServing type of src/api (defaults applied). This module is the one
// place where the API's TypeBox-derived type meets the controller's structural view of it.
import { type ModelServing as ApiModelServing, applyDefaults } from '../../api/index.js';
import type { ModelServing } from './types.js';

/** A ModelServing as the controller plans with it: a copy with the CRD defaults filled in. */
export function withDefaults(obj: ApiModelServing | ModelServing): ModelServing {
  // The API type allows null timestamps where kubernetes-types does not; the fields we read are the same.
  return applyDefaults(obj) as unknown as ModelServing;
}
