"""Sign-offs count the round: one approval each time the plan is at a step (not per revision).

A plan sent back and resubmitted unchanged returns on the same revision, so "one approval per
revision" left it stuck. Three steps: the column nullable, filled from the transition log, then
required; the constraint is swapped last.
"""

from django.db import migrations, models


def fill_rounds(apps, schema_editor):
    SignOff = apps.get_model("cycles", "SignOff")
    PlanTransition = apps.get_model("cycles", "PlanTransition")
    for sign_off in SignOff.objects.filter(round__isnull=True).iterator():
        entered = PlanTransition.objects.filter(
            plan_id=sign_off.plan_id, to_state=sign_off.step,
            occurred_at__lte=sign_off.signed_at).count()
        sign_off.round = max(entered, 1)
        sign_off.save(update_fields=["round"])


class Migration(migrations.Migration):

    dependencies = [
        ("cycles", "0002_annualplan_initiative_initiativeevaluation_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="signoff",
            name="round",
            field=models.PositiveIntegerField(null=True, verbose_name="round"),
        ),
        migrations.RunPython(fill_rounds, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="signoff",
            name="round",
            field=models.PositiveIntegerField(verbose_name="round"),
        ),
        migrations.RemoveConstraint(
            model_name="signoff",
            name="cycles_signoff_one_approval_per_revision",
        ),
        migrations.AddConstraint(
            model_name="signoff",
            constraint=models.UniqueConstraint(
                condition=models.Q(("decision", "approve")), fields=("plan", "step", "round"),
                name="cycles_signoff_one_approval_per_round"),
        ),
        migrations.AddConstraint(
            model_name="signoff",
            constraint=models.CheckConstraint(
                condition=models.Q(("round__gte", 1)), name="cycles_signoff_round_positive"),
        ),
    ]
