package dev.optls.core.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.FailureKind;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Whatever a peer sends, the negotiations never throw and end only in defined ways. */
class ImapPropertiesTest {
    private static final Limits SMALL = new Limits(128, 8, 2048, 64, 4);
    private static final Set<FailureKind> PEER_FAILURES = EnumSet.of(
            FailureKind.MALFORMED,
            FailureKind.LIMIT_EXCEEDED,
            FailureKind.PROTOCOL_VIOLATION,
            FailureKind.SERVICE_UNAVAILABLE,
            FailureKind.UNEXPECTED_EOF,
            FailureKind.BYTES_AFTER_UPGRADE_REPLY,
            FailureKind.STARTTLS_NOT_OFFERED,
            FailureKind.STARTTLS_REFUSED,
            FailureKind.PREAUTH_WITHOUT_TLS,
            FailureKind.TOO_MANY_ERRORS);

    @Provide
    Arbitrary<byte[]> imapish() {
        Arbitrary<String> fragment = Arbitraries.of(
                "* OK ",
                "* PREAUTH ",
                "* BYE ",
                "[CAPABILITY IMAP4rev1 STARTTLS] ",
                "* CAPABILITY IMAP4rev1 STARTTLS",
                "a001 OK ",
                "a002 OK ",
                "a001 NO ",
                "a003 BAD ",
                "+ go",
                "* 1 FETCH (BODY[] {3}\r\n",
                "{2+}\r\n",
                "~{1}\r\n",
                "(",
                ")",
                "\"q\\\"",
                "\r\n",
                "\n",
                " ",
                "x",
                "a1 STARTTLS",
                "a1 LOGIN u p",
                "a1 CAPABILITY",
                "a1 LOGOUT",
                "a1 NOOP",
                "\u0000",
                "\u00ff");
        Arbitrary<byte[]> structured =
                fragment.list().ofMaxSize(40).map(l -> String.join("", l).getBytes(StandardCharsets.ISO_8859_1));
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        return Arbitraries.oneOf(structured, random);
    }

    @Property(tries = 400)
    void clientNeverThrows(
            @ForAll("imapish") byte[] input,
            @ForAll @IntRange(min = 1, max = 50) int chunk,
            @ForAll SecurityLevel level,
            @ForAll boolean eof) {
        ImapClient client = new ImapClient(ClientOptions.of(level).withLimits(SMALL));
        String out = feed(client, input, chunk, eof, null);
        for (String line : out.split("\r\n")) {
            if (!line.isEmpty()) {
                assertThat(line).matches("a\\d{3} (CAPABILITY|STARTTLS|LOGOUT)");
            }
        }
    }

    @Property(tries = 400)
    void serverNeverThrows(
            @ForAll("imapish") byte[] input,
            @ForAll @IntRange(min = 1, max = 50) int chunk,
            @ForAll boolean tlsRequired,
            @ForAll boolean eof) {
        ServerOptions options = ServerOptions.offering("mail.example", Capabilities.of("IMAP4rev2", "AUTH=PLAIN"))
                .withTlsRequired(tlsRequired)
                .withLimits(SMALL);
        ImapServer server = new ImapServer(options);
        String out = feed(server, input, chunk, eof, "NO not here");
        for (String line : out.split("\r\n")) {
            // The negotiation itself never asks for a continuation.
            assertThat(line).doesNotStartWith("+");
        }
    }

    /** Feed input in chunks; answer deliveries; return what was written. */
    private static String feed(Negotiation n, byte[] input, int chunk, boolean eof, String answer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        for (int guard = 0; guard < 100_000; guard++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                ByteBuffer b = ByteBuffer.allocate(w.pending());
                n.drainOutput(b);
                out.write(b.array(), 0, b.position());
            } else if (step instanceof Step.NeedInput) {
                if (pos < input.length) {
                    int end = Math.min(input.length, pos + chunk);
                    n.receive(ByteBuffer.wrap(input, pos, end - pos));
                    pos = end;
                } else if (eof) {
                    n.receiveEof();
                    eof = false;
                } else {
                    break;
                }
            } else if (step instanceof Step.Deliver d) {
                assertThat(answer).isNotNull();
                assertThat(d.command().verb()).isNotEmpty().isUpperCase();
                n.respond(d.command().tag() + " " + answer);
            } else if (step instanceof Step.Failed f) {
                assertThat(f.failure().kind()).isIn(PEER_FAILURES);
                assertThat(f.failure().detail()).isNotBlank();
                break;
            } else if (step instanceof Step.UpgradeUnavailable u) {
                assertThat(u.reason().kind())
                        .isIn(List.of(
                                FailureKind.STARTTLS_NOT_OFFERED,
                                FailureKind.STARTTLS_REFUSED,
                                FailureKind.PREAUTH_WITHOUT_TLS));
                break;
            } else if (step instanceof Step.BeginHandshake || step instanceof Step.Completed) {
                break;
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
