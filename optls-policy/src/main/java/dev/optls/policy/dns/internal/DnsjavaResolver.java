package dev.optls.policy.dns.internal;

import dev.optls.policy.dns.DnsAnswer;
import dev.optls.policy.dns.DnsConfig;
import dev.optls.policy.dns.DnsNames;
import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.dns.DnssecStatus;
import dev.optls.policy.dns.LookupFailure;
import dev.optls.policy.dns.MxRecord;
import dev.optls.policy.dns.RecordData;
import dev.optls.policy.dns.RecordType;
import dev.optls.policy.dns.TrustAnchors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * {@link DnsResolver} on dnsjava: either its {@link ValidatingResolver} (own validation from trust anchors) or a
 * plain resolver whose AD bit is believed. Follows CNAME chains itself when the upstream answer stops early.
 */
public final class DnsjavaResolver implements DnsResolver {

    private static final AtomicInteger THREADS = new AtomicInteger();

    /**
     * Where dnsjava runs the continuations of an answer. Its default, the common fork-join pool, starts a new thread
     * for every task when the JVM sees one or two CPUs (the common pool's parallelism is then 1 or less), which made a
     * lookup cost a thread start. A cached pool of daemon threads reuses them; it is not bounded, so a continuation
     * that waits for another lookup cannot starve the pool.
     */
    private static final ExecutorService CONTINUATIONS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "optls-dns-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /** RFC 6891 §6.2.5 / DNS flag day 2020: an EDNS buffer size that avoids IP fragmentation. */
    private static final int EDNS_PAYLOAD = 1232;

    private final Resolver resolver;
    private final DnsConfig config;
    private final boolean trustAdBit;
    private final UpstreamErrors upstreamErrors;

    private DnsjavaResolver(Resolver resolver, DnsConfig config, boolean trustAdBit, UpstreamErrors upstreamErrors) {
        this.resolver = resolver;
        this.config = config;
        this.trustAdBit = trustAdBit;
        this.upstreamErrors = upstreamErrors;
    }

    /** A resolver validating with dnsjava's ValidatingResolver from {@code anchors}. */
    public static DnsjavaResolver validating(DnsConfig config, TrustAnchors anchors) {
        UpstreamErrors upstream = new UpstreamErrors(upstream(config));
        ValidatingResolver validating = new ValidatingResolver(upstream);
        try {
            validating.loadTrustAnchors(new ByteArrayInputStream(anchors.text().getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new IllegalArgumentException("trust anchors rejected by the validator: " + e.getMessage(), e);
        }
        validating.setTimeout(config.timeout());
        return new DnsjavaResolver(validating, config, false, upstream);
    }

    /** A resolver believing the AD bit of the configured (trusted, validating) resolvers. */
    public static DnsjavaResolver trustingAdBit(DnsConfig config) {
        Resolver upstream = upstream(config);
        // RFC 4035 §3.2.1: DO asks for DNSSEC records; RFC 6840 §5.7: AD in the query asks for AD in the answer.
        upstream.setEDNS(0, EDNS_PAYLOAD, ExtendedFlags.DO, List.<EDNSOption>of());
        return new DnsjavaResolver(upstream, config, true, null);
    }

    private static Resolver upstream(DnsConfig config) {
        List<Resolver> resolvers = new ArrayList<>();
        for (InetSocketAddress server : config.servers()) {
            SimpleResolver simple = new SimpleResolver(server);
            simple.setTimeout(config.timeout());
            simple.setEDNS(0, EDNS_PAYLOAD, 0, List.<EDNSOption>of());
            resolvers.add(simple);
        }
        Resolver resolver;
        if (resolvers.size() == 1) {
            resolver = resolvers.get(0);
        } else {
            ExtendedResolver extended = new ExtendedResolver(resolvers);
            extended.setLoadBalance(false);
            extended.setRetries(1);
            resolver = extended;
        }
        resolver.setTimeout(config.timeout());
        return resolver;
    }

    @Override
    public DnsAnswer<MxRecord> mx(String domain) {
        return lookup(domain, RecordType.MX, r -> {
            MXRecord mx = (MXRecord) r;
            return new MxRecord(mx.getPriority(), mx.getTarget().toString());
        });
    }

    @Override
    public DnsAnswer<InetAddress> addresses(String host, RecordType type) {
        if (type == RecordType.A) {
            return lookup(host, type, r -> ((ARecord) r).getAddress());
        }
        if (type == RecordType.AAAA) {
            return lookup(host, type, r -> ((AAAARecord) r).getAddress());
        }
        throw new IllegalArgumentException("addresses() takes A or AAAA, not " + type);
    }

    @Override
    public DnsAnswer<String> txt(String name) {
        return lookup(name, RecordType.TXT, r -> {
            StringBuilder joined = new StringBuilder();
            for (byte[] part : ((TXTRecord) r).getStringsAsByteArrays()) {
                joined.append(new String(part, StandardCharsets.ISO_8859_1));
            }
            return joined.toString();
        });
    }

    @Override
    public DnsAnswer<String> cname(String name) {
        return lookup(
                name,
                RecordType.CNAME,
                r -> DnsNames.normalize(((CNAMERecord) r).getTarget().toString()));
    }

    @Override
    public DnsAnswer<RecordData> tlsa(String name) {
        return lookup(name, RecordType.TLSA, r -> RecordData.of(r.rdataToWireCanonical(), r.rdataToString()));
    }

    private <T> DnsAnswer<T> lookup(String rawName, RecordType type, Function<Record, T> decode) {
        String name = DnsNames.normalize(rawName);
        List<String> chain = new ArrayList<>();
        DnssecStatus status = DnssecStatus.SECURE;
        String current = name;
        long deadline = System.nanoTime() + config.timeout().toNanos();
        while (true) {
            Exchange exchange = exchange(current, type, deadline);
            if (exchange.failure() != null) {
                return new DnsAnswer.Failed<>(
                        name, type, chain, DnssecStatus.INDETERMINATE, exchange.failure(), exchange.detail());
            }
            Message response = exchange.response();
            int rcode = response.getRcode();
            boolean upstreamFailed = false;
            if (upstreamErrors != null && rcode == Rcode.SERVFAIL) {
                // The validator reports an upstream error as a validation failure; report what happened.
                int upstreamRcode = upstreamErrors.take(current, type.code());
                if (upstreamRcode != Rcode.NOERROR) {
                    rcode = upstreamRcode;
                    upstreamFailed = true;
                }
            }
            if (rcode == Rcode.SERVFAIL) {
                String dnssecReason = upstreamFailed ? null : dnssecFailure(response);
                if (dnssecReason != null) {
                    return new DnsAnswer.Failed<>(
                            name, type, chain, DnssecStatus.BOGUS, LookupFailure.DNSSEC_BOGUS, dnssecReason);
                }
                return new DnsAnswer.Failed<>(
                        name,
                        type,
                        chain,
                        DnssecStatus.INDETERMINATE,
                        LookupFailure.SERVFAIL,
                        "the resolver answered SERVFAIL for " + current + " " + type);
            }
            if (rcode == Rcode.REFUSED) {
                return new DnsAnswer.Failed<>(
                        name,
                        type,
                        chain,
                        DnssecStatus.INDETERMINATE,
                        LookupFailure.REFUSED,
                        "the resolver refused the query for " + current + " " + type
                                + ": it does not offer recursion to us");
            }
            if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
                return new DnsAnswer.Failed<>(
                        name,
                        type,
                        chain,
                        DnssecStatus.INDETERMINATE,
                        LookupFailure.MALFORMED,
                        "the resolver answered " + Rcode.string(rcode) + " for " + current + " " + type);
            }
            // RFC 4035 §3.2.3 / RFC 6840 §5.8: AD set means every RRset in the answer validated.
            status = status.weakest(
                    response.getHeader().getFlag(Flags.AD) ? DnssecStatus.SECURE : DnssecStatus.INSECURE);
            List<Record> answers = response.getSection(Section.ANSWER);
            if (answers.size() > config.maxRecords() + config.maxCnameChain() + 1) {
                return tooLarge(name, type, chain, answers.size());
            }
            String start = current;
            // RFC 1034 §3.6.2 / RFC 2181 §10.1: follow the CNAME chain inside this response.
            if (type != RecordType.CNAME) {
                String next;
                while ((next = cnameTarget(answers, current)) != null) {
                    if (next.equals(name) || chain.contains(next)) {
                        return new DnsAnswer.Failed<>(
                                name,
                                type,
                                chain,
                                DnssecStatus.INDETERMINATE,
                                LookupFailure.CNAME_LOOP,
                                "CNAME chain from " + name + " loops at " + next);
                    }
                    chain.add(next);
                    if (chain.size() > config.maxCnameChain()) {
                        return new DnsAnswer.Failed<>(
                                name,
                                type,
                                chain,
                                DnssecStatus.INDETERMINATE,
                                LookupFailure.CNAME_CHAIN_TOO_LONG,
                                "CNAME chain from " + name + " is longer than " + config.maxCnameChain());
                    }
                    current = next;
                }
            }
            List<T> records = new ArrayList<>();
            for (Record record : answers) {
                if (record.getType() == type.code()
                        && record.getDClass() == DClass.IN
                        && DnsNames.normalize(record.getName().toString()).equals(current)) {
                    if (records.size() == config.maxRecords()) {
                        return tooLarge(name, type, chain, answers.size());
                    }
                    try {
                        records.add(decode.apply(record));
                    } catch (RuntimeException e) {
                        return new DnsAnswer.Failed<>(
                                name,
                                type,
                                chain,
                                DnssecStatus.INDETERMINATE,
                                LookupFailure.MALFORMED,
                                "a " + type + " record of " + current + " is unusable: " + e.getMessage());
                    }
                }
            }
            if (!records.isEmpty()) {
                return new DnsAnswer.Records<>(name, type, chain, status, records);
            }
            // RFC 6604 §3: with CNAMEs the RCODE is about the last name of the chain.
            if (rcode == Rcode.NXDOMAIN) {
                return new DnsAnswer.NxDomain<>(name, type, chain, status);
            }
            if (current.equals(start)) {
                return new DnsAnswer.NoData<>(name, type, chain, status);
            }
            // The response ended on a CNAME target without its records: ask for the target itself.
        }
    }

    private static <T> DnsAnswer<T> tooLarge(String name, RecordType type, List<String> chain, int count) {
        return new DnsAnswer.Failed<>(
                name,
                type,
                chain,
                DnssecStatus.INDETERMINATE,
                LookupFailure.TOO_LARGE,
                "the answer for " + name + " " + type + " has " + count + " records, more than the limit");
    }

    private static String cnameTarget(List<Record> answers, String owner) {
        for (Record record : answers) {
            if (record instanceof CNAMERecord cname
                    && DnsNames.normalize(cname.getName().toString()).equals(owner)) {
                return DnsNames.normalize(cname.getTarget().toString());
            }
        }
        return null;
    }

    /** Why a SERVFAIL is a DNSSEC failure, or null if nothing says so. */
    private String dnssecFailure(Message response) {
        OPTRecord opt = response.getOPT();
        if (opt != null) {
            for (EDNSOption option : opt.getOptions(EDNSOption.Code.EDNS_EXTENDED_ERROR)) {
                if (option instanceof ExtendedErrorCodeOption ede && isDnssecError(ede.getErrorCode())) {
                    String text = ede.getText() == null ? "" : ": " + ede.getText();
                    return "DNSSEC validation failed (RFC 8914 " + ExtendedErrorCodeOption.text(ede.getErrorCode())
                            + text + ")";
                }
            }
        }
        if (!trustAdBit) {
            // dnsjava's ValidatingResolver puts the reason in a TXT record of its private class.
            for (Record record : response.getSection(Section.ADDITIONAL)) {
                if (record.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS) {
                    return "DNSSEC validation failed: " + record.rdataToString();
                }
            }
        }
        return null;
    }

    /** RFC 8914 §4: codes 1, 2 and 6–12 say that DNSSEC validation failed; 5 (indeterminate) does not. */
    private static boolean isDnssecError(int code) {
        return code == ExtendedErrorCodeOption.UNSUPPORTED_DNSKEY_ALGORITHM
                || code == ExtendedErrorCodeOption.UNSUPPORTED_DS_DIGEST_TYPE
                || (code >= ExtendedErrorCodeOption.DNSSEC_BOGUS && code <= ExtendedErrorCodeOption.NSEC_MISSING);
    }

    private record Exchange(Message response, LookupFailure failure, String detail) {}

    private Exchange exchange(String current, RecordType type, long deadline) {
        Message query;
        try {
            Name qname = current.isEmpty() ? Name.root : Name.fromString(current, Name.root);
            query = Message.newQuery(Record.newRecord(qname, type.code(), DClass.IN));
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a DNS name: " + current, e);
        }
        if (trustAdBit) {
            query.getHeader().setFlag(Flags.AD);
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            return timeout(current, type);
        }
        CompletableFuture<Message> future =
                resolver.sendAsync(query, CONTINUATIONS).toCompletableFuture();
        try {
            return new Exchange(future.get(remaining, TimeUnit.NANOSECONDS), null, "");
        } catch (TimeoutException e) {
            future.cancel(true);
            return timeout(current, type);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            return new Exchange(null, LookupFailure.TIMEOUT, "interrupted while looking up " + current + " " + type);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SocketTimeoutException || cause instanceof TimeoutException) {
                return timeout(current, type);
            }
            return new Exchange(
                    null,
                    LookupFailure.NETWORK,
                    "lookup of " + current + " " + type + " failed: " + cause + " (check the resolver addresses "
                            + config.servers() + ")");
        }
    }

    private Exchange timeout(String current, RecordType type) {
        Duration timeout = config.timeout();
        return new Exchange(
                null,
                LookupFailure.TIMEOUT,
                "no answer for " + current + " " + type + " within " + timeout.toMillis() + " ms from "
                        + config.servers());
    }
}
