/** How a bench row's note starts when a side's load could not outrun the device (the table marks such rows). */
export const SOURCE_LIMITED = 'source-limited';
