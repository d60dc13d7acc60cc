import { vhostNetModule } from '@vnic/vhost-net';
import { vhostUserModule } from '@vnic/vhost-user';
import { virtioNetModule } from '@vnic/virtio-net';
import type { ContainerModule } from 'inversify';

/**
 * The ContainerModules of the backends vnic ships. This is the only place that imports every
 * backend package. (The backends arrive with their own issues; callers may also pass backend
 * modules explicitly.)
 */
export function defaultBackendModules(): ContainerModule[] {
  return [virtioNetModule, vhostNetModule, vhostUserModule];
}
