package dev.optls.core.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.core.Capabilities;
import dev.optls.core.Limits;
import dev.optls.core.Step;
import dev.optls.core.testing.Chunks;
import dev.optls.core.testing.Drive;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * RFC 5321 §4.5.2 round trip: whatever the message, what the transaction sends, read back by a receiver that applies
 * the RFC's rule (a lone "." ends the data, a leading "." is removed), is the message (with a final CRLF), and no line
 * of it ends the data early. Arbitrary server bytes never break the transaction.
 */
class DotStuffingPropertiesTest {

    @Provide
    Arbitrary<String> messages() {
        // Lines made of the characters that matter: dots, CR LF only as line ends, text, and empty lines.
        Arbitrary<String> line =
                Arbitraries.strings().withChars(".ab \t:").ofMinLength(0).ofMaxLength(12);
        return line.list()
                .ofMaxSize(30)
                .flatMap(lines -> Arbitraries.of(true, false).map(finalCrlf -> {
                    String joined = String.join("\r\n", lines);
                    return finalCrlf && !lines.isEmpty() ? joined + "\r\n" : joined;
                }));
    }

    @Property(tries = 500)
    void whatTheReceiverReadsIsTheMessage(@ForAll("messages") String text) {
        byte[] message = text.getBytes(StandardCharsets.US_ASCII);
        SmtpMailTransaction m = new SmtpMailTransaction(
                SmtpMailTransactionTest.session(false, Capabilities.NONE, Capabilities.NONE),
                MailEnvelope.of("a@example.org", "b@example.net"),
                message,
                Limits.DEFAULT);

        byte[] written = SmtpMailTransactionTest.drive(m, "250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n");

        String expected = text.isEmpty() || text.endsWith("\r\n") ? text : text + "\r\n";
        assertThat(new String(unstuff(written), StandardCharsets.US_ASCII)).isEqualTo(expected);
        assertThat(new String(written, StandardCharsets.US_ASCII)).endsWith("\r\n.\r\nQUIT\r\n");
        assertThat(m.outcome()).get().matches(MailOutcome::delivered);
    }

    @Provide
    Arbitrary<List<byte[]>> serverBytes() {
        Arbitrary<byte[]> replies = Arbitraries.of(
                        "250 ok\r\n",
                        "354 go\r\n",
                        "550 no\r\n",
                        "451 later\r\n",
                        "421 bye\r\n",
                        "221 bye\r\n",
                        "250-a\r\n",
                        "25",
                        "\r\n",
                        "\n",
                        "x",
                        ".\r\n",
                        "\u00ff")
                .list()
                .ofMaxSize(12)
                .map(parts -> String.join("", parts).getBytes(StandardCharsets.ISO_8859_1));
        return Chunks.split(replies, 80);
    }

    @Property(tries = 500)
    void arbitraryServerBytesEndInADefinedStep(@ForAll("serverBytes") List<byte[]> chunks) {
        SmtpMailTransaction m = new SmtpMailTransaction(
                SmtpMailTransactionTest.session(false, Capabilities.of("SIZE 100000"), Capabilities.NONE),
                MailEnvelope.of("a@example.org", "b@example.net", "c@example.net"),
                SmtpMailTransactionTest.bytes("dots"),
                Limits.DEFAULT);

        Step end = Drive.toEnd(m, chunks, true, 0, List.of());

        assertThat(end).isInstanceOfAny(Step.Completed.class, Step.Failed.class);
        assertThat(m.outcome().isPresent()).isEqualTo(end instanceof Step.Completed);
    }

    /** The receiver's side of RFC 5321 §4.5.2 applied to everything the client wrote after {@code DATA}. */
    static byte[] unstuff(byte[] written) {
        String all = new String(written, StandardCharsets.ISO_8859_1);
        int data = all.indexOf("DATA\r\n");
        assertThat(data).as("DATA was sent").isPositive();
        List<String> lines = Arrays.asList(all.substring(data + 6).split("\r\n", -1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : lines) {
            if (line.equals(".")) {
                return out.toByteArray();
            }
            String text = line.startsWith(".") ? line.substring(1) : line;
            byte[] b = (text + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            out.write(b, 0, b.length);
        }
        throw new AssertionError("the data never ended with a lone '.'");
    }
}
