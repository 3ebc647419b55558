/**
 * `struct tcp_info` (TCP_INFO, linux/tcp.h) as this stack fills it: a plain value from
 * `TcpSocket.info()` and its encoding in Linux's x86-64 layout (280 bytes, Linux 6.18's; the
 * system's uapi header is 6.1's, 232 bytes, which the fields since 6.2 follow; getsockopt
 * copies at most the caller's length, as Linux does, so callers compiled against older or
 * newer headers get their prefix).
 *
 * The offsets are derived from one ordered field table with C's natural alignment, and a test
 * compares every one with `offsetof` compiled against the system header.
 *
 * @module
 */

/** The fields of `struct tcp_info` this stack fills; the rest are zero. */
export interface TcpInfo {
  /** Linux state number (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11). */
  readonly state: number;
  /** TCP_CA_Open 0, Disorder 1, Recovery 3, Loss 4. */
  readonly caState: number;
  readonly retransmits: number;
  readonly probes: number;
  readonly backoff: number;
  /** TCPI_OPT_TIMESTAMPS 1 | TCPI_OPT_SACK 2 | TCPI_OPT_WSCALE 4. */
  readonly options: number;
  readonly sndWscale: number;
  readonly rcvWscale: number;
  /** Retransmission timeout (µs). */
  readonly rto: number;
  /** Delayed-ACK timeout (µs). */
  readonly ato: number;
  readonly sndMss: number;
  readonly rcvMss: number;
  /** Segments in flight. */
  readonly unacked: number;
  readonly sacked: number;
  readonly lost: number;
  readonly retrans: number;
  /** Milliseconds since the last data sent / data received / ACK received. */
  readonly lastDataSent: number;
  readonly lastDataRecv: number;
  readonly lastAckRecv: number;
  readonly pmtu: number;
  readonly rcvSsthresh: number;
  /** Smoothed RTT and its variation (µs). */
  readonly rtt: number;
  readonly rttvar: number;
  /** Slow start threshold and congestion window (segments). */
  readonly sndSsthresh: number;
  readonly sndCwnd: number;
  readonly advmss: number;
  readonly reordering: number;
  readonly rcvSpace: number;
  readonly totalRetrans: number;
  readonly bytesAcked: number;
  readonly bytesReceived: number;
  readonly segsOut: number;
  readonly segsIn: number;
  readonly notsentBytes: number;
  /** Lowest RTT seen (µs). */
  readonly minRtt: number;
  readonly dataSegsIn: number;
  readonly dataSegsOut: number;
  readonly bytesSent: number;
  readonly bytesRetrans: number;
  readonly rcvOoopack: number;
  /** D-SACK blocks received (duplicates the peer reported). */
  readonly dsackDups: number;
  /** The peer's window after scaling (bytes). */
  readonly sndWnd: number;
  /** The window we last advertised, after scaling (bytes; since Linux 6.2). */
  readonly rcvWnd: number;
  /** Retransmission timeouts, SYN and SYN-ACK ones included (since Linux 6.7). */
  readonly totalRto: number;
}

/** All fields zero (what a listener reports beyond its state). */
export const EMPTY_TCP_INFO: TcpInfo = {
  state: 0,
  caState: 0,
  retransmits: 0,
  probes: 0,
  backoff: 0,
  options: 0,
  sndWscale: 0,
  rcvWscale: 0,
  rto: 0,
  ato: 0,
  sndMss: 0,
  rcvMss: 0,
  unacked: 0,
  sacked: 0,
  lost: 0,
  retrans: 0,
  lastDataSent: 0,
  lastDataRecv: 0,
  lastAckRecv: 0,
  pmtu: 0,
  rcvSsthresh: 0,
  rtt: 0,
  rttvar: 0,
  sndSsthresh: 0,
  sndCwnd: 0,
  advmss: 0,
  reordering: 0,
  rcvSpace: 0,
  totalRetrans: 0,
  bytesAcked: 0,
  bytesReceived: 0,
  segsOut: 0,
  segsIn: 0,
  notsentBytes: 0,
  minRtt: 0,
  dataSegsIn: 0,
  dataSegsOut: 0,
  bytesSent: 0,
  bytesRetrans: 0,
  rcvOoopack: 0,
  dsackDups: 0,
  sndWnd: 0,
  rcvWnd: 0,
  totalRto: 0,
};

type Width = 1 | 2 | 4 | 8;
/** The C fields in declaration order: name, width, and the TcpInfo property that fills it. */
const FIELDS: readonly (readonly [cName: string, width: Width, from: keyof TcpInfo | undefined])[] = [
  ['tcpi_state', 1, 'state'],
  ['tcpi_ca_state', 1, 'caState'],
  ['tcpi_retransmits', 1, 'retransmits'],
  ['tcpi_probes', 1, 'probes'],
  ['tcpi_backoff', 1, 'backoff'],
  ['tcpi_options', 1, 'options'],
  ['(wscale bits)', 1, undefined], // snd_wscale:4, rcv_wscale:4 (written below)
  ['(app_limited bits)', 1, undefined],
  ['tcpi_rto', 4, 'rto'],
  ['tcpi_ato', 4, 'ato'],
  ['tcpi_snd_mss', 4, 'sndMss'],
  ['tcpi_rcv_mss', 4, 'rcvMss'],
  ['tcpi_unacked', 4, 'unacked'],
  ['tcpi_sacked', 4, 'sacked'],
  ['tcpi_lost', 4, 'lost'],
  ['tcpi_retrans', 4, 'retrans'],
  ['tcpi_fackets', 4, undefined],
  ['tcpi_last_data_sent', 4, 'lastDataSent'],
  ['tcpi_last_ack_sent', 4, undefined], // "not remembered" in Linux either
  ['tcpi_last_data_recv', 4, 'lastDataRecv'],
  ['tcpi_last_ack_recv', 4, 'lastAckRecv'],
  ['tcpi_pmtu', 4, 'pmtu'],
  ['tcpi_rcv_ssthresh', 4, 'rcvSsthresh'],
  ['tcpi_rtt', 4, 'rtt'],
  ['tcpi_rttvar', 4, 'rttvar'],
  ['tcpi_snd_ssthresh', 4, 'sndSsthresh'],
  ['tcpi_snd_cwnd', 4, 'sndCwnd'],
  ['tcpi_advmss', 4, 'advmss'],
  ['tcpi_reordering', 4, 'reordering'],
  ['tcpi_rcv_rtt', 4, undefined],
  ['tcpi_rcv_space', 4, 'rcvSpace'],
  ['tcpi_total_retrans', 4, 'totalRetrans'],
  ['tcpi_pacing_rate', 8, undefined],
  ['tcpi_max_pacing_rate', 8, undefined],
  ['tcpi_bytes_acked', 8, 'bytesAcked'],
  ['tcpi_bytes_received', 8, 'bytesReceived'],
  ['tcpi_segs_out', 4, 'segsOut'],
  ['tcpi_segs_in', 4, 'segsIn'],
  ['tcpi_notsent_bytes', 4, 'notsentBytes'],
  ['tcpi_min_rtt', 4, 'minRtt'],
  ['tcpi_data_segs_in', 4, 'dataSegsIn'],
  ['tcpi_data_segs_out', 4, 'dataSegsOut'],
  ['tcpi_delivery_rate', 8, undefined],
  ['tcpi_busy_time', 8, undefined],
  ['tcpi_rwnd_limited', 8, undefined],
  ['tcpi_sndbuf_limited', 8, undefined],
  ['tcpi_delivered', 4, undefined],
  ['tcpi_delivered_ce', 4, undefined],
  ['tcpi_bytes_sent', 8, 'bytesSent'],
  ['tcpi_bytes_retrans', 8, 'bytesRetrans'],
  ['tcpi_dsack_dups', 4, 'dsackDups'],
  ['tcpi_reord_seen', 4, undefined],
  ['tcpi_rcv_ooopack', 4, 'rcvOoopack'],
  ['tcpi_snd_wnd', 4, 'sndWnd'],
  // Since Linux 6.2 (not in the system's 6.1 header); no PLB rehashes, RTO recovery times or
  // AccECN counts here: those stay zero.
  ['tcpi_rcv_wnd', 4, 'rcvWnd'],
  ['tcpi_rehash', 4, undefined],
  ['tcpi_total_rto', 2, 'totalRto'],
  ['tcpi_total_rto_recoveries', 2, undefined],
  ['tcpi_total_rto_time', 4, undefined],
  ['tcpi_received_ce', 4, undefined],
  ['tcpi_delivered_e1_bytes', 4, undefined],
  ['tcpi_delivered_e0_bytes', 4, undefined],
  ['tcpi_delivered_ce_bytes', 4, undefined],
  ['tcpi_received_e1_bytes', 4, undefined],
  ['tcpi_received_e0_bytes', 4, undefined],
  ['tcpi_received_ce_bytes', 4, undefined],
  ['tcpi_accecn_fail_mode', 2, undefined],
  ['tcpi_accecn_opt_seen', 2, undefined],
];

/** The fields Linux added after 6.1 (absent from the system's uapi header), in order. */
export const TCP_INFO_FIELDS_SINCE_6_2: readonly string[] = FIELDS.slice(
  FIELDS.findIndex(([n]) => n === 'tcpi_rcv_wnd'),
).map(([n]) => n);

function layout(): { offsets: Record<string, number>; size: number } {
  const offsets: Record<string, number> = {};
  let off = 0;
  for (const [name, width] of FIELDS) {
    off = (off + width - 1) & ~(width - 1);
    offsets[name] = off;
    off += width;
  }
  return { offsets, size: (off + 7) & ~7 };
}

const LAYOUT = layout();

/** Offsets of the named C fields (for the layout test against linux/tcp.h). */
export const TCP_INFO_OFFSETS: Readonly<Record<string, number>> = LAYOUT.offsets;
/** sizeof(struct tcp_info) in the layout this stack writes. */
export const TCP_INFO_LEN = LAYOUT.size;

/** Encodes `info` in Linux's layout; values are clamped to their field's width. */
export function encodeTcpInfo(info: TcpInfo): Uint8Array {
  const out = new Uint8Array(TCP_INFO_LEN);
  const dv = new DataView(out.buffer);
  for (const [name, width, from] of FIELDS) {
    if (from === undefined) continue;
    const v = Math.max(0, Math.floor(info[from]));
    const at = LAYOUT.offsets[name]!;
    if (width === 1) dv.setUint8(at, Math.min(v, 0xff));
    else if (width === 2) dv.setUint16(at, Math.min(v, 0xffff), true);
    else if (width === 4) dv.setUint32(at, Math.min(v, 0xffffffff), true);
    else dv.setBigUint64(at, BigInt(v), true);
  }
  dv.setUint8(LAYOUT.offsets['(wscale bits)']!, (info.sndWscale & 0xf) | ((info.rcvWscale & 0xf) << 4));
  return out;
}
