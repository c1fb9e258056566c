/** The slice of n8n's logger that our code uses (n8n's `this.logger` satisfies it). */
export interface Logger {
	debug(message: string, meta?: object): void;
	info(message: string, meta?: object): void;
	warn(message: string, meta?: object): void;
	error(message: string, meta?: object): void;
}
