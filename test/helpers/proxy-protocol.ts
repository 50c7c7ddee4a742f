/** PROXY protocol headers as a load balancer would send them, for tests. */
import { V2_SIGNATURE } from '../../src/worker/proxy-protocol.ts';

/** A v2 header: command (0 LOCAL, 1 PROXY), family<<4|transport, address block and TLVs. */
export function v2(command: number, famProto: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head);
  head[12] = 0x20 | command;
  head[13] = famProto;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

/** A v2 AF_INET address block. */
export function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  b.set(src, 0);
  b.set(dst, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}
