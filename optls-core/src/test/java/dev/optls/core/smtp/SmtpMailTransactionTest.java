package dev.optls.core.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.optls.core.Capabilities;
import dev.optls.core.Limits;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.Step;
import dev.optls.core.testing.Replay;
import dev.optls.core.testing.Transcript;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The mail transaction replayed from transcripts (whole and split at every byte), and its caller-bug checks. */
class SmtpMailTransactionTest {

    static final Map<String, String> MESSAGES = Map.of(
            "plain", "From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n",
            "dots", "Subject: dots\r\n\r\n.\r\n..x\r\n.end\r\na.b\r\n",
            "noeol", "Subject: x\r\n\r\n.no end",
            "eightbit", "Subject: x\r\n\r\ncaf\u00e9\r\n",
            "empty", "");

    static Stream<String> transcripts() {
        return Transcript.names("/transcripts/smtp-mail", "client-");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    void transcript(String name) {
        Transcript t = Transcript.load("/transcripts/smtp-mail/" + name);
        Map<String, String> o = t.options();
        byte[] message = MESSAGES.get(o.get("message")).getBytes(StandardCharsets.UTF_8);
        MailEnvelope envelope = new MailEnvelope(
                o.getOrDefault("from", "reports@example.org"),
                List.of(o.getOrDefault("rcpt", "rua@example.net").split(",")));
        boolean tls = Boolean.parseBoolean(o.getOrDefault("tls", "false"));
        Capabilities caps = caps(o.get("caps"));
        Result session = tls ? session(true, caps(o.get("before")), caps) : session(false, caps, Capabilities.NONE);
        Limits limits = t.limits(256, 1024);
        List<SmtpMailTransaction> made = new ArrayList<>();
        Supplier<Negotiation> factory = () -> {
            SmtpMailTransaction m = new SmtpMailTransaction(session, envelope, message, limits);
            made.add(m);
            return m;
        };

        Replay.Run run = Replay.everySplit(factory, t, true);

        Replay.assertMatches(t, run, true);
        // The first run is the whole feed; every split gave the same steps and bytes (everySplit) and the same outcome.
        assertThat(made).allSatisfy(m -> assertThat(describe(m)).as(name).isEqualTo(o.get("outcome")));
        if (run.last() instanceof Step.Completed done) {
            assertThat(done.result().ending()).isEqualTo(Result.Ending.CLOSED);
            assertThat(done.result().tlsActive()).isEqualTo(tls);
        }
    }

    static Capabilities caps(String option) {
        if (option == null || option.isEmpty()) {
            return Capabilities.NONE;
        }
        return new Capabilities(
                Arrays.stream(option.split(",")).map(c -> c.replace('_', ' ')).toList());
    }

    static Result session(boolean tls, Capabilities before, Capabilities after) {
        return new Result(
                Protocol.SMTP,
                tls ? Result.Ending.UPGRADED : Result.Ending.PLAINTEXT,
                tls,
                "mx ESMTP",
                before,
                after,
                ByteBuffer.allocate(0));
    }

    /** A compact, space-free description of the outcome, as the transcripts' {@code outcome=} option writes it. */
    static String describe(SmtpMailTransaction m) {
        if (m.outcome().isEmpty()) {
            return "none";
        }
        MailOutcome outcome = m.outcome().get();
        if (outcome instanceof MailOutcome.Delivered d) {
            String s = "delivered:" + d.reply().code() + ";accepted=" + String.join(",", d.accepted());
            if (!d.refused().isEmpty()) {
                s += ";refused="
                        + d.refused().stream()
                                .map(r -> r.recipient() + ":" + r.reply().code())
                                .collect(Collectors.joining(","));
            }
            return s;
        } else if (outcome instanceof MailOutcome.Refused r) {
            assertThat(r.permanent()).isNotEqualTo(r.temporary());
            return "refused:" + r.stage() + ":" + r.reply().code() + ";" + (r.permanent() ? "permanent" : "temporary");
        }
        return "not-sent";
    }

    @Test
    void refusedRecipientsAreKeptWithTheirReplies() {
        SmtpMailTransaction m = run(
                MailEnvelope.of("a@example.org", "x@example.net", "y@example.net"),
                "250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n");

        MailOutcome.Delivered d = (MailOutcome.Delivered) m.outcome().orElseThrow();
        assertThat(d.accepted()).containsExactly("y@example.net");
        assertThat(d.refused()).singleElement().satisfies(r -> {
            assertThat(r.recipient()).isEqualTo("x@example.net");
            assertThat(r.reply().toString()).isEqualTo("550 5.1.1 unknown");
        });
        assertThat(d.reply().text()).isEqualTo("queued");
        assertThat(d.delivered()).isTrue();
    }

    @Test
    void notSentSaysWhatTheServerAcceptsAndHowBigTheMessageIs() {
        Result session = session(false, Capabilities.of("SIZE 10"), Capabilities.NONE);
        SmtpMailTransaction m = new SmtpMailTransaction(
                session, MailEnvelope.of("a@example.org", "b@example.net"), bytes("plain"), Limits.DEFAULT);
        drive(m, "221 bye\r\n");

        assertThat(m.outcome())
                .get()
                .isInstanceOfSatisfying(
                        MailOutcome.NotSent.class,
                        n -> assertThat(n.reason()).contains("43 octets", "at most 10", "RFC 1870"));
    }

    @Test
    void aLargeMessageIsQueuedInChunksAndArrivesWhole() {
        StringBuilder body = new StringBuilder("Subject: big\r\n\r\n");
        for (int i = 0; i < 3000; i++) {
            body.append(i % 7 == 0 ? "." : "")
                    .append("line ")
                    .append(i)
                    .append(" ")
                    .append("x".repeat(60))
                    .append("\r\n");
        }
        byte[] message = body.toString().getBytes(StandardCharsets.US_ASCII);
        SmtpMailTransaction m = new SmtpMailTransaction(
                session(false, Capabilities.NONE, Capabilities.NONE),
                MailEnvelope.of("a@example.org", "b@example.net"),
                message,
                Limits.DEFAULT);
        List<Integer> writes = new ArrayList<>();
        byte[] written = drive(m, "250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n", writes);

        assertThat(m.outcome()).get().matches(MailOutcome::delivered);
        assertThat(writes.stream().mapToInt(Integer::intValue).max().orElseThrow())
                .as("no single write holds the whole message")
                .isLessThan(message.length / 4);
        assertThat(DotStuffingPropertiesTest.unstuff(written)).isEqualTo(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb\r\n", "a\r\nb\rc\r\n", "trailing CR\r", "x\n"})
    void bareCrOrLfIsACallerBug(String message) {
        assertThatThrownBy(() -> new SmtpMailTransaction(
                        session(false, Capabilities.NONE, Capabilities.NONE),
                        MailEnvelope.of("a@example.org", "b@example.net"),
                        message.getBytes(StandardCharsets.US_ASCII),
                        Limits.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bare")
                .hasMessageContaining("RFC 5321 §2.3.8");
    }

    @Test
    void aLineOver998OctetsIsACallerBug() {
        String ok = "x".repeat(998) + "\r\n" + "y".repeat(998);
        new SmtpMailTransaction(
                session(false, Capabilities.NONE, Capabilities.NONE),
                MailEnvelope.of("a@example.org", "b@example.net"),
                ok.getBytes(StandardCharsets.US_ASCII),
                Limits.DEFAULT);
        for (String tooLong : List.of("x".repeat(999) + "\r\n", "a\r\n" + "y".repeat(999))) {
            assertThatThrownBy(() -> new SmtpMailTransaction(
                            session(false, Capabilities.NONE, Capabilities.NONE),
                            MailEnvelope.of("a@example.org", "b@example.net"),
                            tooLong.getBytes(StandardCharsets.US_ASCII),
                            Limits.DEFAULT))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("999 octets")
                    .hasMessageContaining("§4.5.3.1.6");
        }
    }

    @Test
    void lmtpIsRefused() {
        Result lmtp = new Result(
                Protocol.LMTP,
                Result.Ending.PLAINTEXT,
                false,
                "",
                Capabilities.NONE,
                Capabilities.NONE,
                ByteBuffer.allocate(0));
        assertThatThrownBy(() -> new SmtpMailTransaction(
                        lmtp, MailEnvelope.of("a@example.org", "b@example.net"), new byte[0], Limits.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LMTP");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a@example.org\r\nRCPT TO:<evil@example.net>",
                "a@example.org\n",
                "<a@example.org>",
                "a@example.org> SIZE=1",
                "a b@example.org",
                "@example.org",
                "a@",
                "a@-bad-.example",
                "a..b@example.org",
                ".a@example.org",
                "a@exa_mple.org",
                "a@example..org",
                "\"unterminated@example.org",
                "caf\u00e9@example.org",
                "a@[1.2.3.4"
            })
    void addressesThatAreNotMailboxesAreCallerBugs(String address) {
        assertThat(MailEnvelope.isMailbox(address)).isFalse();
        assertThatThrownBy(() -> MailEnvelope.of("ok@example.org", address))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RFC 5321 §4.1.2")
                .hasMessageNotContaining("\r")
                .hasMessageNotContaining("\n");
        assertThatThrownBy(() -> MailEnvelope.of(address, "ok@example.org"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a@example.org",
                "first.last+tag@sub.example.org",
                "\"john doe\"@example.org",
                "\"a\\\"b\"@example.org",
                "postmaster@[127.0.0.1]",
                "x@[IPv6:::1]",
                "!#$%&'*+-/=?^_`{|}~@example.org"
            })
    void mailboxesOfRfc5321AreAccepted(String address) {
        assertThat(MailEnvelope.isMailbox(address)).isTrue();
        assertThat(MailEnvelope.of(address, address).recipients()).containsExactly(address);
    }

    @Test
    void lengthLimitsOfRfc5321() {
        assertThat(MailEnvelope.isMailbox("l".repeat(64) + "@example.org")).isTrue();
        assertThat(MailEnvelope.isMailbox("l".repeat(65) + "@example.org")).isFalse();
        String longDomain = ("d".repeat(60) + ".").repeat(5) + "org";
        assertThat(MailEnvelope.isMailbox("a@" + longDomain)).isFalse();
        assertThat(MailEnvelope.isMailbox("a@" + "d".repeat(64) + ".org")).isFalse();
    }

    @Test
    void envelopeNeedsOneToAHundredRecipients() {
        assertThatThrownBy(() -> new MailEnvelope("a@example.org", List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to 100 recipients");
        List<String> many = java.util.stream.IntStream.range(0, 101)
                .mapToObj(i -> "r" + i + "@example.net")
                .toList();
        assertThatThrownBy(() -> new MailEnvelope("a@example.org", many)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new MailEnvelope("", many.subList(0, 100)).recipients()).hasSize(100);
    }

    static byte[] bytes(String message) {
        return MESSAGES.get(message).getBytes(StandardCharsets.UTF_8);
    }

    static SmtpMailTransaction run(MailEnvelope envelope, String serverBytes) {
        SmtpMailTransaction m = new SmtpMailTransaction(
                session(false, Capabilities.NONE, Capabilities.NONE), envelope, bytes("plain"), Limits.DEFAULT);
        drive(m, serverBytes);
        return m;
    }

    static byte[] drive(SmtpMailTransaction m, String serverBytes) {
        return drive(m, serverBytes, new ArrayList<>());
    }

    /** Feeds the server's bytes whenever asked, returns everything written; records the size of each write. */
    static byte[] drive(SmtpMailTransaction m, String serverBytes, List<Integer> writes) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.wrap(serverBytes.getBytes(StandardCharsets.UTF_8));
        boolean eof = false;
        for (int i = 0; i < 100_000; i++) {
            Step step = m.poll();
            if (step instanceof Step.WriteOutput w) {
                ByteBuffer buf = ByteBuffer.allocate(w.pending());
                m.drainOutput(buf);
                writes.add(buf.position());
                out.write(buf.array(), 0, buf.position());
            } else if (step instanceof Step.NeedInput) {
                if (in.hasRemaining()) {
                    m.receive(in);
                } else if (!eof) {
                    eof = true;
                    m.receiveEof();
                } else {
                    throw new AssertionError("NeedInput after EOF");
                }
            } else {
                assertThat(step).isInstanceOf(Step.Completed.class);
                return out.toByteArray();
            }
        }
        throw new AssertionError("no end");
    }
}
