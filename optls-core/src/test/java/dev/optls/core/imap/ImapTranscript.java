package dev.optls.core.imap;

import dev.optls.core.Command;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Negotiation;
import dev.optls.core.Step;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * A small in-memory driver for transcript tests. A transcript is a list of lines:
 *
 * <ul>
 *   <li>{@code S: text} / {@code C: text}: a line from the server / client; CRLF is appended unless the
 *       text ends in {@code \c}. Escapes: {@code \r}, {@code \n}, {@code \\}, {@code \xNN}.
 *   <li>{@code TLS}: the handshake happens here ({@code handshakeCompleted} is called when the negotiation
 *       asked for it).
 *   <li>{@code APP: reply}: the application answers the delivered command with {@code respond(reply)}.
 *   <li>{@code HANDOVER}: the application takes the delivered command over.
 *   <li>{@code EOF}: the peer closes.
 * </ul>
 *
 * For a client transcript the {@code S:} lines are input and the {@code C:} lines the expected output;
 * for a server transcript the other way round. Input is replayed whole, split at every byte offset, and
 * a byte at a time.
 */
final class ImapTranscript {
    static final HandshakeSummary SUMMARY = new HandshakeSummary("TLSv1.3", "TLS_AES_128_GCM_SHA256", "imap");

    sealed interface Entry {}

    record Peer(byte[] bytes) implements Entry {}

    record Own(byte[] bytes) implements Entry {}

    record Tls() implements Entry {}

    record App(String reply) implements Entry {}

    record HandOver() implements Entry {}

    record Eof() implements Entry {}

    /**
     * What happened in one replay.
     *
     * @param splits the input offsets at which the input was split
     * @param last the last step seen
     * @param output everything the negotiation wrote
     * @param expectedOutput the own lines of the transcript
     * @param delivered commands delivered to the application (server)
     * @param tlsBytes bytes that went to TLS instead of the negotiation: a server's {@code tlsInput} plus
     *     peer input that arrived after {@code BeginHandshake}
     * @param unfed peer input never fed because the negotiation had already ended
     */
    record Outcome(
            java.util.SortedSet<Integer> splits,
            Step last,
            String output,
            String expectedOutput,
            List<Command> delivered,
            String tlsBytes,
            String unfed) {}

    private final List<Entry> entries;

    private ImapTranscript(List<Entry> entries) {
        this.entries = entries;
    }

    static ImapTranscript client(String text) {
        return parse(text, "S:", "C:");
    }

    static ImapTranscript server(String text) {
        return parse(text, "C:", "S:");
    }

    private static ImapTranscript parse(String text, String peer, String own) {
        List<Entry> entries = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.isBlank() && !line.startsWith(peer) && !line.startsWith(own)) {
                continue;
            }
            if (line.startsWith(peer)) {
                byte[] bytes = decode(line.substring(peer.length()));
                // Consecutive peer lines are one write: they arrive together.
                if (!entries.isEmpty() && entries.get(entries.size() - 1) instanceof Peer previous) {
                    ByteArrayOutputStream joined = new ByteArrayOutputStream();
                    joined.writeBytes(previous.bytes());
                    joined.writeBytes(bytes);
                    entries.set(entries.size() - 1, new Peer(joined.toByteArray()));
                } else {
                    entries.add(new Peer(bytes));
                }
            } else if (line.startsWith(own)) {
                entries.add(new Own(decode(line.substring(own.length()))));
            } else if (line.strip().equals("TLS")) {
                entries.add(new Tls());
            } else if (line.startsWith("APP:")) {
                entries.add(new App(new String(decode(line.substring(4).strip() + "\\c"), StandardCharsets.UTF_8)));
            } else if (line.strip().equals("HANDOVER")) {
                entries.add(new HandOver());
            } else if (line.strip().equals("EOF")) {
                entries.add(new Eof());
            } else {
                throw new IllegalArgumentException("bad transcript line: " + line);
            }
        }
        return new ImapTranscript(entries);
    }

    /** Decode escapes (an unknown escape is kept as written); the single space after the prefix is dropped; CRLF appended unless {@code \c}. */
    static byte[] decode(String s) {
        String body = s.startsWith(" ") ? s.substring(1) : s;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean crlf = true;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 == body.length()) {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                case 'c' -> crlf = false;
                default -> {
                    out.write('\\');
                    i--;
                }
            }
        }
        if (crlf) {
            out.write('\r');
            out.write('\n');
        }
        return out.toByteArray();
    }

    /** Total number of peer input bytes. */
    int peerLength() {
        return entries.stream()
                .filter(e -> e instanceof Peer)
                .mapToInt(e -> ((Peer) e).bytes().length)
                .sum();
    }

    /** All peer input, concatenated. */
    String peerText() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        entries.stream().filter(e -> e instanceof Peer).forEach(e -> out.writeBytes(((Peer) e).bytes()));
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Replays: whole, split once at every offset, and a byte at a time. */
    List<Outcome> replayAll(Supplier<? extends Negotiation> factory) {
        List<Outcome> all = new ArrayList<>();
        int n = peerLength();
        all.add(replay(factory.get(), Set.of()));
        for (int k = 1; k < n; k++) {
            all.add(replay(factory.get(), Set.of(k)));
        }
        all.add(replay(factory.get(), IntStream.range(1, n).boxed().collect(java.util.stream.Collectors.toSet())));
        return all;
    }

    /** Replays every way and runs {@code check} on each outcome, naming the split on failure. */
    void check(Supplier<? extends Negotiation> factory, java.util.function.Consumer<Outcome> check) {
        List<Outcome> outcomes = replayAll(factory);
        org.assertj.core.api.Assertions.assertThat(outcomes).hasSize(Math.max(2, peerLength() + 1));
        for (Outcome o : outcomes) {
            try {
                check.accept(o);
            } catch (AssertionError e) {
                throw new AssertionError("input split at " + o.splits() + ": " + e.getMessage(), e);
            }
        }
    }

    Outcome replay(Negotiation n, Set<Integer> splits) {
        Driver d = new Driver(n);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        ByteArrayOutputStream unfed = new ByteArrayOutputStream();
        int offset = 0;
        d.pump();
        for (Entry entry : entries) {
            if (entry instanceof Peer p) {
                int start = 0;
                byte[] b = p.bytes();
                for (int i = 1; i <= b.length; i++) {
                    if (i == b.length || splits.contains(offset + i)) {
                        byte[] chunk = java.util.Arrays.copyOfRange(b, start, i);
                        if (d.finished()) {
                            unfed.writeBytes(chunk);
                        } else if (d.last instanceof Step.BeginHandshake) {
                            d.tls.writeBytes(chunk);
                        } else {
                            n.receive(ByteBuffer.wrap(chunk));
                            d.pump();
                        }
                        start = i;
                    }
                }
                offset += b.length;
            } else if (entry instanceof Own o) {
                expected.writeBytes(o.bytes());
            } else if (entry instanceof Tls) {
                if (d.last instanceof Step.BeginHandshake) {
                    n.handshakeCompleted(SUMMARY);
                    d.pump();
                }
            } else if (entry instanceof App a) {
                if (d.last instanceof Step.Deliver) {
                    n.respond(a.reply());
                    d.pump();
                }
            } else if (entry instanceof HandOver) {
                if (d.last instanceof Step.Deliver) {
                    n.handOver();
                    d.pump();
                }
            } else if (entry instanceof Eof) {
                if (!d.finished() && !(d.last instanceof Step.BeginHandshake)) {
                    n.receiveEof();
                    d.pump();
                }
            }
        }
        return new Outcome(
                new TreeSet<>(splits),
                d.last,
                d.out.toString(StandardCharsets.ISO_8859_1),
                expected.toString(StandardCharsets.ISO_8859_1),
                d.delivered,
                d.tls.toString(StandardCharsets.ISO_8859_1),
                unfed.toString(StandardCharsets.ISO_8859_1));
    }

    /** Polls a negotiation, writing output to a buffer; shared with the loop tests. */
    static final class Driver {
        final Negotiation n;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream tls = new ByteArrayOutputStream();
        final List<Command> delivered = new ArrayList<>();
        Step last;

        Driver(Negotiation n) {
            this.n = n;
        }

        /** Poll until the negotiation needs input or returns a step other than WriteOutput. */
        Step pump() {
            for (int guard = 0; guard < 10_000; guard++) {
                Step s = n.poll();
                if (s instanceof Step.WriteOutput w) {
                    ByteBuffer buf = ByteBuffer.allocate(w.pending());
                    n.drainOutput(buf);
                    out.write(buf.array(), 0, buf.position());
                    continue;
                }
                if (s != last) {
                    if (s instanceof Step.Deliver d) {
                        delivered.add(d.command());
                    }
                    if (s instanceof Step.BeginHandshake b) {
                        ByteBuffer in = b.tlsInput();
                        byte[] bytes = new byte[in.remaining()];
                        in.get(bytes);
                        tls.writeBytes(bytes);
                    }
                }
                last = s;
                return s;
            }
            throw new AssertionError("negotiation keeps asking to write");
        }

        boolean finished() {
            return last instanceof Step.Completed
                    || last instanceof Step.Failed
                    || last instanceof Step.UpgradeUnavailable;
        }

        /** Take what was written so far. */
        byte[] takeOutput() {
            byte[] b = out.toByteArray();
            out.reset();
            return b;
        }
    }
}
