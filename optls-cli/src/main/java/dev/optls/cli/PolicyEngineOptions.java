package dev.optls.cli;

import dev.optls.policy.dns.DnsResolver;
import dev.optls.policy.engine.LocalPolicies;
import dev.optls.policy.engine.PolicyEngine;
import dev.optls.policy.postfix.LocalPolicyFile;
import dev.optls.policy.sts.InMemoryPolicyCache;
import dev.optls.policy.sts.MtaStsResolver;
import dev.optls.policy.sts.PolicyCache;
import dev.optls.policy.sts.PolicyCacheException;
import dev.optls.policy.sts.RedisPolicyCache;
import dev.optls.policy.sts.RedisSettings;
import dev.optls.policy.sts.SqlitePolicyCache;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * What {@code optls policy serve} and {@code optls policy query} share besides {@link PolicyOptions} (DNS and MTA-STS
 * fetching): where MTA-STS policies are cached, and the local rules. A picocli mixin.
 */
final class PolicyEngineOptions {

    /** The environment variable a Redis password may come from. */
    static final String REDIS_PASSWORD_ENV = "OPTLS_REDIS_PASSWORD";

    @Option(
            names = "--mta-sts-cache",
            paramLabel = "STORE",
            description = "where MTA-STS policies are kept between fetches: sqlite:PATH (one file per host),"
                    + " redis://HOST[:PORT][/DB] (shared by several mail servers; password from"
                    + " --redis-password-file or $" + REDIS_PASSWORD_ENV + "), or memory (lost at exit)."
                    + " Default for serve: sqlite:" + PolicyServeCommand.DEFAULT_SQLITE + "; for query: memory")
    String cache;

    @Option(
            names = "--redis-password-file",
            paramLabel = "FILE",
            description = "file holding the Redis password (first line); not on the command line, where ps shows it")
    Path redisPasswordFile;

    @Option(
            names = "--redis-key-prefix",
            paramLabel = "PREFIX",
            description = "prefix of the Redis keys (default: " + RedisSettings.DEFAULT_KEY_PREFIX + ")")
    String redisKeyPrefix = RedisSettings.DEFAULT_KEY_PREFIX;

    @Option(names = "--no-mta-sts", description = "do not look up MTA-STS policies (DANE and local rules only)")
    boolean noMtaSts;

    @Option(
            names = "--local-policies",
            paramLabel = "FILE",
            description = "local rules, one per line: 'domain level [match=name:name]', level"
                    + " may|encrypt|verify|dane-only, '.domain' for subdomains, '[host]:port' for a relay host,"
                    + " '#' comments (they apply when neither DANE nor MTA-STS enforce does)")
    Path localPolicies;

    @Option(
            names = "--max-mx",
            paramLabel = "N",
            defaultValue = "" + PolicyEngine.DEFAULT_MAX_HOSTS,
            description = "MX hosts considered per domain, lowest preference first (default: ${DEFAULT-VALUE})")
    int maxMx;

    /** An engine, the MTA-STS resolver it uses (none with {@code --no-mta-sts}) and the cache it holds open. */
    record Setup(PolicyEngine engine, Optional<MtaStsResolver> mtaSts, PolicyCache cache, String cacheDescription)
            implements AutoCloseable {
        @Override
        public void close() {
            if (cache instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // Closing at exit; nothing left to protect.
                }
            }
        }
    }

    /**
     * Builds the engine, resolving and fetching as {@code policy} says; {@code defaultCache} applies without {@code
     * --mta-sts-cache}.
     *
     * @throws Main.UsageException saying which option is wrong and what to do
     */
    Setup build(PolicyOptions policy, String defaultCache) {
        if (maxMx < 1 || maxMx > 100) {
            throw new Main.UsageException("--max-mx must be 1..100, got " + maxMx);
        }
        DnsResolver dns = policy.resolver();
        LocalPolicies rules = LocalPolicies.none();
        if (localPolicies != null) {
            try {
                rules = LocalPolicyFile.read(localPolicies);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--local-policies: " + e.getMessage());
            }
        }
        PolicyEngine.Builder builder =
                PolicyEngine.builder(dns).localPolicies(rules).maxHosts(maxMx);
        if (noMtaSts) {
            return new Setup(builder.build(), Optional.empty(), new InMemoryPolicyCache(), "none (--no-mta-sts)");
        }
        String spec = cache != null ? cache : defaultCache;
        PolicyCache store = openCache(spec);
        MtaStsResolver resolver = new MtaStsResolver(dns, policy.fetcher(dns), store);
        builder.mtaSts(resolver);
        return new Setup(builder.build(), Optional.of(resolver), store, describe(spec));
    }

    private PolicyCache openCache(String spec) {
        String lower = spec.toLowerCase(Locale.ROOT);
        try {
            if (lower.equals("memory")) {
                return new InMemoryPolicyCache();
            }
            if (lower.startsWith("sqlite:")) {
                String path = spec.substring("sqlite:".length());
                if (path.isEmpty()) {
                    throw new Main.UsageException(
                            "--mta-sts-cache sqlite: needs a file, e.g. sqlite:" + PolicyServeCommand.DEFAULT_SQLITE);
                }
                return SqlitePolicyCache.open(Path.of(path));
            }
            if (lower.startsWith("redis://")) {
                return RedisPolicyCache.connect(redisSettings(spec));
            }
        } catch (PolicyCacheException e) {
            throw new Main.UsageException("--mta-sts-cache " + describe(spec) + ": " + e.getMessage()
                    + " (or choose another store: sqlite:PATH, redis://HOST:PORT, memory)");
        }
        throw new Main.UsageException(
                "--mta-sts-cache wants sqlite:PATH, redis://HOST[:PORT][/DB] or memory; got '" + spec + "'");
    }

    private RedisSettings redisSettings(String spec) {
        URI uri;
        try {
            uri = new URI(spec);
        } catch (URISyntaxException e) {
            throw new Main.UsageException("--mta-sts-cache " + spec + ": not a redis:// URI (" + e.getReason() + ")");
        }
        if (uri.getRawUserInfo() != null) {
            throw new Main.UsageException("--mta-sts-cache: do not put the Redis password in the URI (ps shows the"
                    + " command line); use --redis-password-file FILE or $" + REDIS_PASSWORD_ENV);
        }
        if (uri.getHost() == null) {
            throw new Main.UsageException(
                    "--mta-sts-cache " + spec + ": name the Redis host, e.g. redis://127.0.0.1:6379");
        }
        int port = uri.getPort() < 0 ? 6379 : uri.getPort();
        int database = 0;
        String path = uri.getPath() == null ? "" : uri.getPath();
        if (!path.isEmpty() && !path.equals("/")) {
            try {
                database = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new Main.UsageException(
                        "--mta-sts-cache " + spec + ": the path is the database number, e.g. redis://host:6379/2");
            }
        }
        RedisSettings settings;
        try {
            settings =
                    RedisSettings.of(uri.getHost(), port).withDatabase(database).withKeyPrefix(redisKeyPrefix);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--mta-sts-cache " + spec + ": " + e.getMessage());
        }
        String password = null;
        if (redisPasswordFile != null) {
            try {
                password = Files.readAllLines(redisPasswordFile, StandardCharsets.UTF_8).stream()
                        .findFirst()
                        .orElse("")
                        .strip();
            } catch (IOException e) {
                throw new Main.UsageException(
                        "--redis-password-file " + redisPasswordFile + ": cannot read it (" + e.getMessage() + ")");
            }
            if (password.isEmpty()) {
                throw new Main.UsageException("--redis-password-file " + redisPasswordFile + " is empty");
            }
        } else {
            String env = System.getenv(REDIS_PASSWORD_ENV);
            if (env != null && !env.isEmpty()) {
                password = env;
            }
        }
        return password == null ? settings : settings.withPassword(password);
    }

    private static String describe(String spec) {
        return spec.toLowerCase(Locale.ROOT).startsWith("redis://") ? spec.replaceAll("//[^@/]*@", "//") : spec;
    }
}
