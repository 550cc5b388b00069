package dev.optls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.optls.core.SecurityLevel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

    @Test
    void demoRowsAreAllAsExpectedInTextAndJson() throws Exception {
        // One demo run (it starts every server and probes each at every level): the JSON rows, then the
        // text table rendered from them.
        CliRun run = CliRun.of("demo", "--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        assertThat(run.err()).contains("probed ").doesNotContain("Exception");
        JsonNode rows = new ObjectMapper().readTree(run.out());
        assertThat(rows.isArray()).isTrue();
        assertThat(rows.size()).isGreaterThan(SecurityLevel.values().length * 5);

        List<String> outcomes = new ArrayList<>();
        for (JsonNode row : rows) {
            assertThat(row.get("asExpected").asBoolean()).as("%s", row).isTrue();
            assertThat(row.get("outcome").asText())
                    .isEqualTo(row.get("expected").asText());
            assertThat(row.at("/report/outcome").asText())
                    .isEqualTo(row.get("outcome").asText());
            assertThat(row.at("/report/level").asText())
                    .isEqualTo(row.get("level").asText());
            outcomes.add(row.get("outcome").asText());
        }
        // The demo shows each way a probe can end well.
        assertThat(outcomes).contains("tls", "plaintext", "starttls-not-offered", "certificate-invalid");

        // The same rows, read back, render as the text table `optls demo` prints.
        List<DemoCommand.Row> parsed = new ObjectMapper().readValue(run.out(), new TypeReference<>() {});
        String table = DemoCommand.table(parsed);
        assertThat(table).contains("Every row is as expected.").doesNotContain("NOT as expected");
        assertThat(table.lines().filter(l -> l.endsWith(" yes"))).hasSize(rows.size());
    }

    @Test
    void tableSaysEveryRowIsAsExpected() {
        ProbeReport report = new ProbeReport(
                "smtp://127.0.0.1:2525",
                "smtp",
                "127.0.0.1",
                2525,
                "verify",
                "tls",
                true,
                null,
                null,
                null,
                null,
                null,
                null,
                1);
        DemoCommand.Row ok = new DemoCommand.Row("smtp :2525 (starttls)", "verify", "tls", "tls", true, true, report);

        String table = DemoCommand.table(List.of(ok));

        assertThat(table).contains("smtp :2525 (starttls)", "Every row is as expected.");
    }

    @Test
    void tableFlagsAMismatch() {
        DemoCommand.Row bad =
                new DemoCommand.Row("smtp :2525 (starttls)", "verify", "tls", "plaintext", false, false, null);

        String table = DemoCommand.table(List.of(bad));

        assertThat(table).contains("NO (expected tls)", "1 row(s) NOT as expected.", "REFUSED");
        assertThat(table).doesNotContain("Every row is as expected");
    }
}
