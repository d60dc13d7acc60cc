/** How `VirtioNetDriver.send` lays a frame out in descriptors: one buffer, two chained, or an indirect table. */
export type TxLayout = 'single' | 'split' | 'indirect';
