from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_access_decisions_by_time"),
    ]

    operations = [
        migrations.CreateModel(
            name="Lease",
            fields=[
                ("name", models.CharField(max_length=50, primary_key=True, serialize=False)),
                ("holder", models.CharField(max_length=200)),
                ("acquired_at", models.DateTimeField()),
                ("renewed_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
            ],
        ),
    ]
