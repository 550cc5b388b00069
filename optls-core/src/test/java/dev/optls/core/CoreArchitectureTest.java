package dev.optls.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** optls-core is sans-IO: no sockets, TLS, threads, clocks or third-party classes (DESIGN.md rule 1). */
class CoreArchitectureTest {
    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.optls.core");
    }

    /** Evaluates the rule and fails with ArchUnit's report of every violation. */
    private static void assertNoViolation(ArchRule rule) {
        EvaluationResult result = rule.evaluate(core);
        assertThat(result.hasViolation())
                .as(result.getFailureReport().toString())
                .isFalse();
    }

    @Test
    void usesNoNetworkingOrTls() {
        ArchRule rule = noClasses()
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("java.net..", "javax.net..", "java.nio.channels..", "java.nio.file..", "java.io..")
                .because("the core takes bytes and returns steps; IO belongs to adapters");
        assertNoViolation(rule);
    }

    @Test
    void usesNoThreadsOrClocks() {
        ArchRule rule = noClasses()
                .should()
                .dependOnClassesThat()
                .belongToAnyOf(
                        Thread.class,
                        ThreadLocal.class,
                        java.time.Clock.class,
                        java.time.Instant.class,
                        java.util.Timer.class)
                .orShould()
                .dependOnClassesThat()
                .resideInAnyPackage("java.util.concurrent..")
                .orShould()
                .callMethod(System.class, "currentTimeMillis")
                .orShould()
                .callMethod(System.class, "nanoTime")
                .because("timeouts and scheduling belong to adapters");
        assertNoViolation(rule);
    }

    @Test
    void usesOnlyTheJdkBase() {
        ArchRule rule = noClasses()
                .should()
                .dependOnClassesThat()
                .resideOutsideOfPackages("dev.optls.core..", "java.lang..", "java.util..", "java.nio..", "java.time..")
                .because("optls-core has no third-party dependencies");
        assertNoViolation(rule);
    }
}
