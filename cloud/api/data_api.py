"""Public API: reading synced data, at the public paths, in the list envelope.

A data type reads 409 until one of its datasets has completed; after that, readers see the
latest completed sync of it, never a half-published one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from cloud.api.auth import ServicesDep, require_api_key
from cloud.api.paging import ListDep, envelope, page_of
from cloud.api.public_models import ERROR_RESPONSES, CompanyInfo, FinancialReport, Records
from cloud.errors import NotFound
from cloud.services import Services
from cloud.store import cache, reports

router = APIRouter(dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)

# Public read path under /companies/{companyId}/data/ -> data type key.
READ_PATHS: dict[str, str] = {
    "accounts": "chartOfAccounts",
    "accountTransactions": "accountTransactions",
    "billCreditNotes": "billCreditNotes",
    "billPayments": "billPayments",
    "bills": "bills",
    "creditNotes": "creditNotes",
    "customers": "customers",
    "directCosts": "directCosts",
    "directIncomes": "directIncomes",
    "invoices": "invoices",
    "itemReceipts": "itemReceipts",
    "items": "items",
    "journalEntries": "journalEntries",
    "journals": "journals",
    "paymentMethods": "paymentMethods",
    "payments": "payments",
    "purchaseOrders": "purchaseOrders",
    "salesOrders": "salesOrders",
    "suppliers": "suppliers",
    "taxRates": "taxRates",
    "trackingCategories": "trackingCategories",
    "transfers": "transfers",
}


@router.get(
    "/companies/{company_id}/data/info",
    response_model=CompanyInfo,
    response_model_exclude_unset=True,
)
def company_info(company_id: str, services: ServicesDep) -> dict[str, Any]:
    """The ``company`` data type is one record, served bare rather than in a list."""
    records = _all(services, company_id, "company")
    if not records:
        raise NotFound("The book's company information has not been synced.")
    return records[0]


@router.get(
    "/companies/{company_id}/connections/{connection_id}/data/bankAccounts",
    response_model=Records,
    response_model_exclude_unset=True,
)
def bank_accounts(
    company_id: str, connection_id: str, services: ServicesDep, params: ListDep
) -> dict[str, Any]:
    services.tenancy.get_connection(company_id, connection_id)
    return page_of(_all(services, company_id, "bankAccounts", connection_id), params)


PeriodLength = Annotated[int, Query(alias="periodLength", ge=1, le=12)]
PeriodsToCompare = Annotated[int, Query(alias="periodsToCompare", ge=1, le=60)]
StartMonth = Annotated[str | None, Query(alias="startMonth", max_length=32)]


# Public report path -> (data type, how its monthly records become the report).
REPORTS = {
    "balanceSheet": ("balanceSheet", reports.balance_sheet),
    "profitAndLoss": ("profitAndLoss", reports.profit_and_loss),
}


@router.get(
    "/companies/{company_id}/data/financials/{report}",
    response_model=FinancialReport,
    response_model_exclude_unset=True,
)
def financial_report(
    company_id: str,
    report: str,
    services: ServicesDep,
    period_length: PeriodLength,
    periods_to_compare: PeriodsToCompare,
    start_month: StartMonth = None,
) -> dict[str, Any]:
    if report not in REPORTS:
        raise NotFound(f"There is no report called {report}.")
    data_type, assemble = REPORTS[report]
    return assemble(
        _all(services, company_id, data_type),
        period_length=period_length,
        periods=periods_to_compare,
        start_month=start_month,
    )


@router.get(
    "/companies/{company_id}/data/{read_path}",
    response_model=Records,
    response_model_exclude_unset=True,
)
def read_records(
    company_id: str, read_path: str, services: ServicesDep, params: ListDep
) -> dict[str, Any]:
    data_type = _data_type(read_path)
    if params.filters:
        return page_of(_all(services, company_id, data_type), params)
    services.tenancy.get_company(company_id)
    with services.db.reading() as conn:
        results, total = cache.read(
            conn, company_id, data_type, offset=params.offset, limit=params.page_size
        )
    return envelope(results, params, total=total)


@router.get(
    "/companies/{company_id}/data/{read_path}/{record_id}",
    response_model=dict[str, Any],
    response_model_exclude_unset=True,
)
def read_record(
    company_id: str, read_path: str, record_id: str, services: ServicesDep
) -> dict[str, Any]:
    data_type = _data_type(read_path)
    for record in _all(services, company_id, data_type):
        if record.get("id") == record_id:
            return record
    raise NotFound(f"No {data_type} record with id {record_id}.")


def _data_type(read_path: str) -> str:
    data_type = READ_PATHS.get(read_path)
    if data_type is None:
        raise NotFound(f"There is no data at /data/{read_path}.")
    return data_type


def _all(
    services: Services, company_id: str, data_type: str, connection_id: str | None = None
) -> list[dict[str, Any]]:
    services.tenancy.get_company(company_id)
    with services.db.reading() as conn:
        results, _total = cache.read(
            conn, company_id, data_type, offset=0, limit=None, connection_id=connection_id
        )
    return results
