// `lambdalite dev`: registered with the client commands (see commands.ts).
export {};
