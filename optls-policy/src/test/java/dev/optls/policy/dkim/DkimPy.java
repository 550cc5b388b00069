package dev.optls.policy.dkim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * dkimpy (Debian {@code python3-dkim}), a DKIM verifier written by others, run by Debian's {@code /usr/bin/python3}:
 * {@code dkim.verify(message, dnsfunc=…)} with a DNS function that answers the key record name with a given TXT
 * value and nothing else. Skips the test when it is not installed (fails it under {@code CI=true}).
 */
public final class DkimPy {

    public static final Path PYTHON = Path.of("/usr/bin/python3");

    private static final String SCRIPT = """
            import sys, logging, dkim
            logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="dkimpy: %(message)s")
            message = open(sys.argv[1], "rb").read()
            txt = open(sys.argv[2], "rb").read()
            record = sys.argv[3].encode()
            mode = sys.argv[4]
            tlsrpt = {"no": False, "yes": True, "strict": "strict"}[mode]
            asked = []
            def dns(name, timeout=5):
                asked.append(name)
                return txt if name.rstrip(b".") == record else None
            try:
                ok = dkim.verify(message, logger=logging.getLogger(), dnsfunc=dns, tlsrpt=tlsrpt)
            except Exception as e:
                # dkimpy lets some errors escape (e.g. an RSA signature checked with an Ed25519 key): not verified.
                print("dkimpy raised", repr(e))
                ok = False
            print("PASS" if ok else "FAIL", b" ".join(asked).decode())
            """;

    private DkimPy() {}

    /** The verdict and what dkimpy logged. */
    public record Verdict(boolean pass, String output) {}

    /** Skips (fails under CI=true) when Debian's python3 with the dkim module is missing. */
    public static void require() throws IOException, InterruptedException {
        boolean present = Files.isExecutable(PYTHON)
                && new ProcessBuilder(PYTHON.toString(), "-c", "import dkim, nacl")
                                .redirectErrorStream(true)
                                .start()
                                .waitFor()
                        == 0;
        if (!present) {
            String message = "dkimpy is missing: install the Debian package 'python3-dkim' (apt-get install"
                    + " python3-dkim), or run scripts/install-peers.sh";
            skipOrFail(message);
        }
    }

    /** Skips (fails under CI=true) when {@code executable} from Debian package {@code debianPackage} is missing. */
    public static void requireExecutable(Path executable, String debianPackage) {
        if (!Files.isExecutable(executable)) {
            skipOrFail(executable + " is missing: install the Debian package '" + debianPackage + "'");
        }
    }

    private static void skipOrFail(String message) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message + " [CI=true]");
        }
        Assumptions.abort(message);
    }

    /**
     * Verifies {@code message} with dkimpy, answering {@code recordName} with {@code txt}.
     *
     * @param tlsrptMode dkimpy's {@code tlsrpt} argument: {@code no}, {@code yes} or {@code strict}
     */
    public static Verdict verify(Path dir, byte[] message, String recordName, String txt, String tlsrptMode)
            throws IOException, InterruptedException {
        Path msg = Files.write(dir.resolve("message.eml"), message);
        Path key = Files.writeString(dir.resolve("key.txt"), txt, StandardCharsets.US_ASCII);
        Path script = Files.writeString(dir.resolve("verify.py"), SCRIPT, StandardCharsets.US_ASCII);
        Process p = new ProcessBuilder(List.of(
                        PYTHON.toString(), script.toString(), msg.toString(), key.toString(), recordName, tlsrptMode))
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("dkimpy did not finish in 30 s:\n" + out);
        }
        boolean pass = out.lines().anyMatch(l -> l.startsWith("PASS "));
        boolean fail = out.lines().anyMatch(l -> l.startsWith("FAIL"));
        if (pass == fail) {
            throw new AssertionError("dkimpy gave no verdict (exit " + p.exitValue() + "):\n" + out);
        }
        return new Verdict(pass, out);
    }
}
