import { Container, type ContainerModule } from 'inversify';
import { defaultBackendModules } from './defaultBackendModules.ts';

/**
 * The composition root: an inversify container with one ContainerModule per backend. Without
 * arguments it loads every backend package vnic ships; a VMM may pass its own list (e.g. to add a
 * backend of its own or to leave one out).
 */
export function createVnicContainer(modules: readonly ContainerModule[] = defaultBackendModules()): Container {
  const container = new Container();
  container.load(...modules);
  return container;
}
