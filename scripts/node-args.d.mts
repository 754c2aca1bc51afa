/** Node options of the API process (see node-args.mjs). */
export declare const API_NODE_ARGS: string[];
