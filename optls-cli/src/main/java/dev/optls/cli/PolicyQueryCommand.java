package dev.optls.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.optls.policy.dane.TlsaRecord;
import dev.optls.policy.engine.DeliveryPlan;
import dev.optls.policy.engine.MxPlan;
import dev.optls.policy.postfix.NextHop;
import dev.optls.policy.postfix.PolicyService;
import dev.optls.policy.postfix.PostfixPolicy;
import dev.optls.policy.postfix.SocketmapReply;
import dev.optls.policy.sts.StsDecision;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code optls policy query DOMAIN…}: the delivery plan per domain, for people, and the answer Postfix would get. */
@Command(
        name = "query",
        mixinStandardHelpOptions = true,
        description = {
            "Show, per destination domain, which mechanism decides (DANE, MTA-STS enforce/testing, a local rule or"
                    + " none), every MX host with what it must offer and why, and the answer 'optls policy serve'"
                    + " gives Postfix for it.",
            "Exit 0 when a plan was printed for every domain (whatever it says); 2 for a wrong option or a domain"
                    + " that is not a domain name."
        },
        footer = ExitCodes.HELP)
final class PolicyQueryCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    PolicyOptions policyOptions = new PolicyOptions();

    @Mixin
    PolicyEngineOptions engineOptions = new PolicyEngineOptions();

    @Parameters(
            arity = "1..*",
            paramLabel = "NEXTHOP",
            description = "next hops as Postfix asks them: recipient domains (example.com, example.com:2525) or relay"
                    + " hosts ([relay.example.com]:587)")
    List<String> domains = new ArrayList<>();

    @Option(names = "--json", description = "print a JSON array, one object per domain")
    boolean json;

    @Option(
            names = "--tlsrpt-attributes",
            description = "show the Postfix answer with Postfix 3.10's TLSRPT attributes, as serve would with it")
    boolean tlsrptAttributes;

    @Option(
            names = "--default-level",
            paramLabel = "LEVEL",
            description = "as for serve: the answer when no policy applies")
    String defaultLevel;

    @Override
    public Integer call() throws JsonProcessingException {
        PrintWriter out = spec.commandLine().getOut();
        List<NextHop> names = new ArrayList<>();
        for (String d : domains) {
            NextHop name = NextHop.parse(d)
                    .orElseThrow(() -> new Main.UsageException("'" + d + "' is not a domain name or a [host]:port next"
                            + " hop; give the recipient domain, e.g. example.com (or example.com:2525), or a relay host,"
                            + " e.g. [relay.example.com]:587"));
            names.add(name);
        }
        PostfixPolicy.Options options;
        try {
            options = new PostfixPolicy.Options(tlsrptAttributes, 60, Optional.ofNullable(defaultLevel));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--default-level: " + e.getMessage());
        }
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        try (PolicyEngineOptions.Setup setup = engineOptions.build(policyOptions, "memory")) {
            for (NextHop nextHop : names) {
                DeliveryPlan plan = PolicyService.plan(setup.engine(), nextHop, Instant.now());
                SocketmapReply answer = PostfixPolicy.answer(plan, options);
                if (json) {
                    array.add(toJson(plan, answer));
                } else {
                    printText(out, plan, answer);
                }
                out.flush();
            }
        }
        if (json) {
            out.println(ProbeCommand.jsonMapper().writeValueAsString(array));
        }
        return ExitCodes.OK;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static void printText(PrintWriter out, DeliveryPlan plan, SocketmapReply answer) {
        out.println(plan.domain() + ": " + lower(plan.status()) + ", decided by " + lower(plan.source()));
        out.println("  " + plan.reason());
        for (MxPlan h : plan.hosts()) {
            out.println("  MX " + h.preference() + " " + h.host() + ": " + lower(h.requirement())
                    + (h.serverName().equals(h.host()) ? "" : " (SNI " + h.serverName() + ")")
                    + (h.referenceNames().isEmpty() ? "" : " names " + String.join(",", h.referenceNames())));
            for (TlsaRecord r : h.tlsa()) {
                out.println("    TLSA " + r.toText());
            }
            out.println("    " + h.reason());
        }
        plan.sts().ifPresent(d -> out.println("  MTA-STS: " + stsText(d)));
        plan.local()
                .ifPresent(r -> out.println("  local rule: " + lower(r.level())
                        + (r.matchNames().isEmpty() ? "" : " match=" + String.join(":", r.matchNames()))));
        out.println("  Postfix answer: " + answer.wire());
    }

    private static String stsText(StsDecision d) {
        if (d instanceof StsDecision.Apply apply) {
            return lower(apply.mode()) + " (" + lower(apply.basis()) + "): " + apply.reason();
        }
        return "no policy: " + d.reason();
    }

    static ObjectNode toJson(DeliveryPlan plan, SocketmapReply answer) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("domain", plan.domain());
        o.put("status", lower(plan.status()));
        o.put("source", lower(plan.source()));
        o.put("reason", plan.reason());
        ArrayNode hosts = o.putArray("hosts");
        for (MxPlan h : plan.hosts()) {
            ObjectNode host = hosts.addObject();
            host.put("host", h.host());
            host.put("preference", h.preference());
            host.put("requirement", lower(h.requirement()));
            host.put("server_name", h.serverName());
            ArrayNode refs = host.putArray("reference_names");
            h.referenceNames().forEach(refs::add);
            ArrayNode tlsa = host.putArray("tlsa");
            h.tlsa().forEach(r -> tlsa.add(r.toText()));
            host.put("report_policy", h.reportPolicy().type().wireName());
            host.put("reason", h.reason());
        }
        plan.sts().ifPresent(d -> {
            ObjectNode sts = o.putObject("mta_sts");
            if (d instanceof StsDecision.Apply apply) {
                sts.put("mode", lower(apply.mode()));
                sts.put("basis", lower(apply.basis()));
                sts.put("id", apply.policy().id());
                sts.put("expires_at", apply.policy().expiresAt().toString());
                ArrayNode mx = sts.putArray("mx");
                apply.policy().policy().mx().forEach(p -> mx.add(p.toText()));
            } else {
                sts.put("mode", "no-policy");
            }
            sts.put("reason", d.reason());
            d.fetchFailure().ifPresent(failure -> sts.put("fetch_failure", String.valueOf(failure)));
        });
        plan.local().ifPresent(r -> {
            ObjectNode local = o.putObject("local_rule");
            local.put("level", lower(r.level()));
            ArrayNode match = local.putArray("match");
            r.matchNames().forEach(match::add);
        });
        ObjectNode postfix = o.putObject("postfix");
        postfix.put("status", answer.status().name());
        postfix.put("text", answer.text());
        postfix.put("wire", answer.wire());
        return o;
    }
}
