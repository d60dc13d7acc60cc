import type { ContainerModule } from 'inversify';

/**
 * The ContainerModules of the backends vnic ships. This is the only place that imports every
 * backend package. (The backends arrive with their own issues; until then the list is empty and
 * callers pass backend modules explicitly.)
 */
export function defaultBackendModules(): ContainerModule[] {
  return [];
}
