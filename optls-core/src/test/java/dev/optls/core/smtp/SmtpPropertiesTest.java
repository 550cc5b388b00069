package dev.optls.core.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Negotiation;
import dev.optls.core.Protocol;
import dev.optls.core.SecurityLevel;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Arbitrary bytes, in arbitrary chunks, never make an SMTP negotiation throw or step outside its contract. */
class SmtpPropertiesTest {

    @Property(tries = 300)
    void clientSurvivesAnything(@ForAll("chunks") List<byte[]> chunks, @ForAll SecurityLevel level) {
        drive(new SmtpClient(Protocol.SMTP, ClientOptions.of(level)), chunks);
    }

    @Property(tries = 300)
    void serverSurvivesAnything(@ForAll("chunks") List<byte[]> chunks, @ForAll boolean required) {
        drive(
                new SmtpServer(
                        Protocol.SMTP,
                        ServerOptions.offering("mx.test", Capabilities.of("PIPELINING", "AUTH PLAIN"))
                                .withTlsRequired(required)),
                chunks);
    }

    private static void drive(Negotiation n, List<byte[]> chunks) {
        ByteBuffer out = ByteBuffer.allocate(1 << 16);
        int next = 0;
        for (int rounds = 0; rounds < 10_000; rounds++) {
            Step step = n.poll();
            if (step instanceof Step.WriteOutput w) {
                assertThat(w.pending()).isPositive();
                out.clear();
                assertThat(n.drainOutput(out)).isPositive();
            } else if (step instanceof Step.NeedInput) {
                if (next == chunks.size()) {
                    n.receiveEof();
                    next++;
                } else if (next > chunks.size()) {
                    throw new AssertionError("NeedInput after EOF");
                } else {
                    n.receive(ByteBuffer.wrap(chunks.get(next++)));
                }
            } else if (step instanceof Step.Deliver) {
                n.respond("250 ok");
            } else if (step instanceof Step.BeginHandshake) {
                n.handshakeCompleted(dev.optls.core.testing.Replay.FAKE_TLS);
            } else {
                assertThat(step)
                        .isInstanceOfAny(Step.Completed.class, Step.Failed.class, Step.UpgradeUnavailable.class);
                return;
            }
        }
        throw new AssertionError("no end after 10000 steps");
    }

    @Provide
    Arbitrary<List<byte[]>> chunks() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
        Arbitrary<byte[]> plausible = Arbitraries.of(
                        "220 mx ESMTP\r\n",
                        "250-mx\r\n",
                        "250 STARTTLS\r\n",
                        "250-STARTTLS\r\n",
                        "220 go\r\n",
                        "EHLO x\r\n",
                        "STARTTLS\r\n",
                        "MAIL FROM:<a@b>\r\n",
                        "454 no\r\n",
                        "\r\n",
                        "QUIT\r\n",
                        "250 ok\r\n",
                        "421 bye\r\n",
                        "HELO x\r\n",
                        "RSET\r\n",
                        "DATA\r\n")
                .map(s -> s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return Arbitraries.oneOf(random, plausible).list().ofMaxSize(30);
    }
}
